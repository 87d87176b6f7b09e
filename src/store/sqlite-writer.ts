// Ticket inserts off the event loop. A worker thread with its own connection to the same SQLite file (WAL mode)
// commits the rows queued while its previous commit ran, all in one transaction with synchronous=FULL: one fsync
// per batch, and each caller's promise resolves only once its row is durable. The event loop never waits for the
// disk, nor for the WAL checkpoints that commits trigger; under load, batches grow instead of queueing commits.
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/** A row for the insert statement (named parameters; times as unix ms). */
export type Row = Record<string, string | number | null>

// Plain JavaScript run by the worker (eval): a worker file would need a TypeScript loader in tests and tsx.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.file)
db.pragma('synchronous = FULL')
db.pragma('busy_timeout = 5000')
db.pragma('foreign_keys = ON')
const insert = db.prepare(workerData.sql)
const insertAll = db.transaction((rows) => { for (const row of rows) insert.run(row) })
const failure = (err) => ({ message: String(err && err.message), code: err && err.code })
parentPort.on('message', (rows) => {
  try {
    insertAll(rows)
    parentPort.postMessage(null)
  } catch {
    // One bad row must not fail the others: each is tried on its own.
    parentPort.postMessage(rows.map((row) => { try { insert.run(row); return null } catch (err) { return failure(err) } }))
  }
})
`

interface Pending { row: Row, resolve: () => void, reject: (err: unknown) => void }

export class SqliteWriter {
  private worker: Worker | undefined
  private queue: Pending[] = []
  private inFlight: Pending[] | undefined
  private scheduled = false
  private idle: (() => void) | undefined

  constructor (private readonly file: string, private readonly sql: string) {}

  /** Resolves once the row is committed and synced. */
  insert (row: Row): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject })
      // Rows queued within this turn of the event loop go together.
      if (this.inFlight === undefined && !this.scheduled) {
        this.scheduled = true
        setImmediate(() => { this.scheduled = false; this.send() })
      }
    })
  }

  /** Waits for queued rows to commit, then stops the worker. */
  async close (): Promise<void> {
    if (this.inFlight !== undefined || this.queue.length > 0) {
      await new Promise<void>((resolve) => { this.idle = resolve })
    }
    const worker = this.worker
    this.worker = undefined
    await worker?.terminate()
  }

  private send (): void {
    if (this.inFlight !== undefined || this.queue.length === 0) {
      if (this.inFlight === undefined) this.idle?.()
      return
    }
    const batch = this.inFlight = this.queue
    this.queue = []
    const worker = this.worker ?? this.start()
    // Referenced only while a batch is out: an idle writer never keeps the process alive.
    worker.ref()
    worker.postMessage(batch.map((p) => p.row))
  }

  private start (): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver: createRequire(import.meta.url).resolve('better-sqlite3'), file: this.file, sql: this.sql }
    })
    worker.on('message', (errors: Array<{ message: string, code?: string } | null> | null) => {
      const batch = this.inFlight ?? []
      this.inFlight = undefined
      worker.unref()
      batch.forEach((p, i) => {
        const err = errors?.[i]
        if (err == null) p.resolve()
        else p.reject(Object.assign(new Error(err.message), { code: err.code }))
      })
      this.send()
    })
    // A worker that fails (or cannot open the file) fails its batch; the next insert starts a new one.
    const fail = (err: unknown) => {
      if (this.worker !== worker) return
      this.worker = undefined
      const batch = this.inFlight ?? []
      this.inFlight = undefined
      for (const p of batch) p.reject(err)
      this.send()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`the SQLite writer thread exited (code ${code})`)))
    this.worker = worker
    return worker
  }
}
