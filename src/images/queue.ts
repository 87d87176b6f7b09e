// Processing runs at bounded concurrency behind a bounded queue: a burst of completions waits its turn, and
// beyond what the queue holds it is answered 503 with Retry-After instead of growing memory.
import { appError } from '../errors.js'

export class ProcessingQueue {
  private running = 0
  private readonly waiting: Array<() => void> = []

  constructor (private readonly concurrency: number, private readonly limit: number) {}

  /** Jobs running and waiting. */
  get depth (): number { return this.running + this.waiting.length }

  async run<T> (job: () => Promise<T>): Promise<T> {
    if (this.running < this.concurrency) this.running++
    else if (this.waiting.length >= this.limit) {
      // About the time the queue takes to move up by one batch; clients retry then.
      throw appError('BUSY', `${this.depth} images are being processed or waiting (IMAGE_CONCURRENCY ${this.concurrency}, IMAGE_QUEUE_LIMIT ${this.limit}); retry after the Retry-After seconds`)
    } else {
      // The slot is handed over by the job that finishes (running stays the same).
      await new Promise<void>((resolve) => this.waiting.push(resolve))
    }
    try {
      return await job()
    } finally {
      const next = this.waiting.shift()
      if (next !== undefined) next()
      else this.running--
    }
  }
}
