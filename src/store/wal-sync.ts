// Durable commits without blocking the event loop. The SQLite connection commits with synchronous = NORMAL (the WAL
// is written, not flushed); `durable()` resolves once an fdatasync of the WAL file that began after the call has
// finished on libuv's thread pool: the flush synchronous = FULL would do inside COMMIT, moved off the event loop,
// which meanwhile goes on parsing, signing and committing the next requests.
//
// One flush runs at a time: callers that come while one runs share the next, started as soon as it ends.
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
      if (failure === undefined) {
        for (const w of batch) w.resolve()
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
