// Group commit for ticket inserts: what is added within one turn of the event loop is handed to `flush` together
// (one transaction), and each caller's promise settles when `flush` settles its entry. `wait`, when given, may
// hold the batch past the end of the turn, once: it returns true and calls `resume` later; the batch grows meanwhile.

export interface Pending<T> { item: T, resolve: () => void, reject: (err: unknown) => void }

export class TickBatch<T> {
  private pending: Array<Pending<T>> = []

  constructor (private readonly flush: (batch: Array<Pending<T>>) => void, private readonly wait?: (resume: () => void) => boolean) {}

  add (item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ item, resolve, reject }) === 1) setImmediate(this.due)
    })
  }

  // Held once at most: a batch resumed is handed over at the end of that turn, whatever runs then.
  private readonly due = (): void => {
    if (this.wait?.(() => setImmediate(() => { this.flushNow() })) === true) return
    this.flushNow()
  }

  /** Hands over whatever is waiting now (also on close, so no caller is left hanging). */
  flushNow (): void {
    if (this.pending.length === 0) return
    const batch = this.pending
    this.pending = []
    this.flush(batch)
  }
}
