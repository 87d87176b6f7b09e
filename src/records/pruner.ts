// Retention: records that ended more than RETENTION_DAYS ago are removed, every SWEEP_INTERVAL_SECONDS, in batches
// of a few hundred rows. Each batch finds its rows through an index and deletes them in one short transaction, and
// the pruner rests between batches, so a store that grew large (or a first pass after an upgrade) never holds
// requests for long.
import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config.js'
import type { Metrics } from '../metrics.js'
import type { PruneBatch, PruneCursor, RecordStore } from './record-store.js'

const DAY_MS = 86_400_000
/** Rows per statement: a batch of this many holds SQLite's thread for milliseconds (docs/performance.md, "Store growth"). */
export const PRUNE_BATCH = 500

export interface PruneResult { events: number, uploads: number }

export class Pruner {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> | undefined
  /** Set by stop(): a pass in progress ends after the batch at hand. */
  private halted = false

  constructor (
    private readonly config: Pick<Config, 'retentionDays' | 'sweepIntervalSeconds'>,
    private readonly store: Pick<RecordStore, 'pruneEvents' | 'pruneUploads'>,
    private readonly metrics: Pick<Metrics, 'pruned'>,
    private readonly log: FastifyBaseLogger,
    private readonly batch = PRUNE_BATCH
  ) {}

  start (): void {
    if (this.config.sweepIntervalSeconds === 0 || this.timer !== undefined) return
    this.halted = false
    this.schedule()
  }

  async stop (): Promise<void> {
    this.halted = true
    clearTimeout(this.timer)
    this.timer = undefined
    await this.running
  }

  /** One pass: events first (an upload goes only once no event refers to it), then uploads. */
  async prune (now = new Date()): Promise<PruneResult> {
    const before = new Date(now.getTime() - this.config.retentionDays * DAY_MS)
    const events = await this.drain('outbox', (limit, after) => this.store.pruneEvents(before, limit, after))
    const uploads = await this.drain('uploads', (limit, after) => this.store.pruneUploads(before, limit, after))
    return { events, uploads }
  }

  /** Batches until one finds fewer rows due than it could take; each starts after the one before ended. */
  private async drain (table: 'outbox' | 'uploads', batch: (limit: number, after?: PruneCursor) => Promise<PruneBatch>): Promise<number> {
    let total = 0
    let after: PruneCursor | undefined
    while (!this.halted) {
      const started = performance.now()
      const { removed, resume, done } = await batch(this.batch, after)
      total += removed
      after = resume ?? after
      this.metrics.pruned.inc({ table }, removed)
      if (done) break
      // A rest as long as the batch took: a long pass (the first after an upgrade) takes at most half of the event
      // loop (SQLite) or of a connection (PostgreSQL), and requests waiting since the batch began run first.
      await new Promise((resolve) => setTimeout(resolve, performance.now() - started))
    }
    return total
  }

  private schedule (): void {
    this.timer = setTimeout(() => {
      this.running = this.prune()
        .then((r) => { if (r.events + r.uploads > 0) this.log.info(r, `removed records older than RETENTION_DAYS=${this.config.retentionDays}`) })
        .catch((err: unknown) => { this.log.error({ err }, 'removing old records failed; retrying at the next interval') })
        .finally(() => {
          this.running = undefined
          if (!this.halted) this.schedule()
        })
    }, this.config.sweepIntervalSeconds * 1000).unref()
  }
}
