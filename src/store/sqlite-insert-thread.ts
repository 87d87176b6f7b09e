// The main thread's side of the insert thread (sqlite-insert-worker.ts): hands each turn's ticket inserts over and
// settles each caller once its row committed. If the thread cannot run, inserts commit on the event loop instead.
import { Worker } from 'node:worker_threads'
import type { Pending } from './tick-batch.js'
import type { InsertReply } from './sqlite-insert-worker.js'
import type { UploadInsertRow } from './sqlite-connection.js'

function startWorker (file: string): Worker {
  const workerData = { file }
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./sqlite-insert-worker.js', import.meta.url), { workerData })
  // Running the sources (tests, tsx): on Node 20 a thread does not inherit the TypeScript loader, so it registers
  // tsx itself before loading its entry.
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(new URL('./sqlite-insert-worker.ts', import.meta.url).href)
  return new Worker(`import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}) })`, { eval: true, workerData })
}

/** Batches handed to the thread and not yet answered: one commits while the next waits, so it starts at once. */
const MAX_IN_FLIGHT = Number(process.env.XINFLIGHT ?? 1)

export class InsertThread {
  private worker: Worker | undefined
  private started = false
  private seq = 0
  private readonly inFlight = new Map<number, Array<Pending<unknown>>>()
  /** Rows gathered while MAX_IN_FLIGHT batches are out: they go as one batch (one message, one commit). */
  private waiting: { rows: UploadInsertRow[], batch: Array<Pending<unknown>> } = { rows: [], batch: [] }
  private drained: (() => void) | undefined

  /** `fallback` inserts on the calling thread: used once the thread has failed. */
  constructor (
    private readonly fallback: (rows: UploadInsertRow[], batch: Array<Pending<unknown>>) => void,
    private readonly onFail: (err: Error) => void,
    private readonly file: string
  ) {}

  insert (rows: UploadInsertRow[], batch: Array<Pending<unknown>>): void {
    // Started with the first ticket: a process that issues none (tools, most tests) never pays for the thread.
    if (!this.started) this.start()
    if (this.worker === undefined) { this.fallback(rows, batch); return }
    this.waiting.rows.push(...rows)
    this.waiting.batch.push(...batch)
    if (this.inFlight.size < MAX_IN_FLIGHT) this.send()
  }

  /** Waits for every handed-over insert to settle, then stops the thread (its connection closes). */
  async close (): Promise<void> {
    if (this.inFlight.size > 0) await new Promise<void>((resolve) => { this.drained = resolve })
    const worker = this.worker
    this.worker = undefined
    if (worker === undefined) return
    const exited = new Promise((resolve) => worker.once('exit', resolve))
    worker.ref()
    worker.postMessage('close')
    await exited
  }

  private start (): void {
    this.started = true
    try {
      const worker = startWorker(this.file)
      worker.unref()
      worker.on('message', (reply: InsertReply) => { this.settle(reply) })
      worker.on('error', (err) => { this.fail(err) })
      worker.on('exit', (code) => { this.fail(new Error(`the SQLite insert thread exited (code ${code})`)) })
      this.worker = worker
    } catch (err) { this.onFail(err as Error) }
  }

  private send (): void {
    const { rows, batch } = this.waiting
    if (this.worker === undefined || rows.length === 0) return
    this.waiting = { rows: [], batch: [] }
    const seq = ++this.seq
    // Referenced only while it holds inserts: an idle thread never keeps the process alive.
    if (this.inFlight.size === 0) this.worker.ref()
    this.inFlight.set(seq, batch)
    this.worker.postMessage({ seq, rows })
  }

  private settle ({ seq, errors }: InsertReply): void {
    const batch = this.inFlight.get(seq)
    if (batch === undefined) return
    this.inFlight.delete(seq)
    this.send()
    batch.forEach((p, i) => {
      const e = errors?.[i]
      if (e === undefined || e === null) p.resolve()
      else p.reject(Object.assign(new Error(e.message), e.code !== undefined ? { code: e.code } : {}))
    })
    if (this.inFlight.size === 0) {
      this.worker?.unref()
      this.drained?.()
    }
  }

  /** The thread is gone: whatever it held is failed (unknown whether it committed), the rest runs here. */
  private fail (err: Error): void {
    if (this.worker === undefined) return
    this.worker = undefined
    this.onFail(err)
    for (const batch of this.inFlight.values()) for (const p of batch) p.reject(err)
    this.inFlight.clear()
    const { rows, batch } = this.waiting
    this.waiting = { rows: [], batch: [] }
    if (rows.length > 0) this.fallback(rows, batch)
    this.drained?.()
  }
}
