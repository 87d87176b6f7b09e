// Durable commits without blocking the event loop. The SQLite connection commits with synchronous = NORMAL (the WAL
// is written, not flushed); `durable()` resolves once an fdatasync of the WAL file that began after the call has
// finished on libuv's thread pool: the flush synchronous = FULL would do inside COMMIT, moved off the event loop,
// which meanwhile goes on parsing, signing and committing the next requests.
//
// One flush runs at a time: callers that come while one runs share the next, started as soon as it ends.
import { fdatasync } from 'node:fs'

interface Waiter { resolve: () => void, reject: (err: Error) => void }
export type SyncFn = (fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => void

export class WalSync {
  private waiting: Waiter[] = []
  private flushing = false
  /** Set after a failed flush: the kernel may have dropped the unwritten pages, so nothing is trusted after it. */
  private failure: Error | undefined

  constructor (private readonly fd: number, private readonly sync: SyncFn = fdatasync) {}

  /** Resolves once everything committed before this call is on disk. */
  durable (): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject })
      if (!this.flushing) this.flush()
    })
  }

  /** The error of a failed flush, once one failed (readiness reports it). */
  get failed (): Error | undefined { return this.failure }

  private flush (): void {
    const batch = this.waiting
    this.waiting = []
    this.flushing = true
    this.sync(this.fd, (err) => {
      this.flushing = false
      if (err !== null) this.failure ??= err
      const failure = this.failure
      if (failure === undefined) {
        for (const w of batch) w.resolve()
        if (this.waiting.length > 0) this.flush()
        return
      }
      for (const w of [...batch, ...this.waiting.splice(0)]) w.reject(failure)
    })
  }
}
