// Durable commits without blocking the event loop. The SQLite connection commits with synchronous = NORMAL (the WAL
// is written, not flushed); `durable()` resolves once an fdatasync of the WAL file that began after the call has
// finished on libuv's thread pool: the flush synchronous = FULL would do inside COMMIT, moved off the event loop,
// which meanwhile goes on parsing, signing and committing the next requests.
//
// One flush runs at a time: callers that come while one runs share the next, started as soon as it ends, or at
// the end of that turn when a caller asked to commit first (afterFlush).
import { closeSync, fdatasync } from 'node:fs'

interface Waiter { resolve: () => void, reject: (err: Error) => void }
export type SyncFn = (fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => void

export class WalSync {
  private waiting: Waiter[] = []
  private flushing = false
  /** Set after a failed flush: the kernel may have dropped the unwritten pages, so nothing is trusted after it. */
  private failure: Error | undefined
  private closed = false
  private idle: (() => void) | undefined
  /** Called when the running flush ends, before the next one starts (afterFlush). */
  private after: Array<() => void> = []

  constructor (private readonly fd: number, private readonly sync: SyncFn = fdatasync) {}

  /** After a commit: resolves once it is on disk (a flush that began after this call has finished). */
  durable (): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.closed && !this.flushing) return Promise.reject(new Error('the store is closed'))
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject })
      if (!this.flushing) this.flush()
    })
  }

  /**
   * While a flush runs: `commit` is called when it ends, and the next flush waits until the end of that turn of
   * the event loop, so what `commit` schedules for then (a setImmediate) rides it. Returns false, and never calls
   * `commit`, when no flush runs. The ticket batch waits so: rows committed while a flush runs would wait for the
   * next flush anyway, and held back they make one commit instead of one per turn (docs/performance.md).
   */
  afterFlush (commit: () => void): boolean {
    if (!this.flushing) return false
    this.after.push(commit)
    return true
  }

  /** The error of a failed flush, once one failed: every write and read after it is refused. */
  get failed (): Error | undefined { return this.failure }

  /** Waits for the flush running, refuses new callers, and closes the file. */
  async close (): Promise<void> {
    this.closed = true
    if (this.flushing || this.waiting.length > 0) await new Promise<void>((resolve) => { this.idle = resolve })
    closeSync(this.fd)
  }

  private flush (): void {
    const batch = this.waiting
    this.waiting = []
    this.flushing = true
    const done = (err: Error | null) => {
      this.flushing = false
      if (err !== null) this.failure ??= err
      const failure = this.failure
      const after = this.after
      this.after = []
      for (const commit of after) commit()
      if (failure === undefined) {
        for (const w of batch) w.resolve()
        if (after.length > 0) {
          // Queued after the callers' own setImmediate: by then their commit has started the flush, or nothing did
          // (and with nobody waiting, a close() waiting for the idle moment gets it here).
          setImmediate(() => {
            if (this.flushing) return
            if (this.waiting.length > 0) this.flush()
            else this.idle?.()
          })
          return
        }
        if (this.waiting.length > 0) { this.flush(); return }
      } else {
        for (const w of [...batch, ...this.waiting.splice(0)]) w.reject(failure)
      }
      this.idle?.()
    }
    try {
      this.sync(this.fd, done)
    } catch (err) {
      // A synchronous throw (a closed fd) is a failed flush too, not a flush that never ends.
      done(err instanceof Error ? err : new Error(String(err)))
    }
  }
}
