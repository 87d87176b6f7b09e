// Uploads that were never completed: once the ticket expired (plus UPLOAD_GRACE_SECONDS, for transfers that began
// in time and land late), an upload whose object exists is confirmed as
// completion would (the same checks, the same webhook); the rest expire. Then every upload that ended is cleaned
// once its ticket expired, and again after each later change: what a form posted after the end left at the staging
// key, and whatever a delete that failed left (the records say which: RecordStore.listLeftovers). Last, the
// storage's own leftovers (temporary files of a process that died).
import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config.js'
import type { Metrics } from '../metrics.js'
import type { ObjectStore } from '../objects/object-store.js'
import type { PageCursor, RecordStore, UploadRecord } from '../records/record-store.js'
import type { UploadService } from './service.js'

const BATCH = 100

/** `cleaned`: uploads; `files`: the storage's own leftover files. */
export interface SweepResult { confirmed: number, expired: number, rejected: number, cleaned: number, files: number }

export class Sweeper {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  /** Set by stop(): a pass in progress ends after the record at hand. */
  private halted = false

  constructor (
    private readonly config: Config,
    private readonly store: RecordStore,
    private readonly storage: ObjectStore,
    private readonly uploads: Pick<UploadService, 'settleExpired' | 'deleteObjects'>,
    private readonly metrics: Metrics,
    private readonly log: FastifyBaseLogger
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

  /** One pass over everything due at `now`. */
  async sweep (now = new Date()): Promise<SweepResult> {
    const result: SweepResult = { confirmed: 0, expired: 0, rejected: 0, cleaned: 0, files: 0 }
    const settled = new Date(now.getTime() - this.config.upload.graceSeconds * 1000)
    await this.drain((after) => this.store.listExpiredPending(settled, BATCH, after), async (record) => { result[await this.uploads.settleExpired(record)]++ })
    // `settled`, like pending uploads: a post that began before the expiry may land during the grace period.
    await this.drain((after) => this.store.listLeftovers(settled, BATCH, after), async (record) => {
      const uploaded = this.storage.uploadedKey(record.key)
      // A confirmed image stays; a form posted after its confirmation only reached the staging key. Otherwise the
      // image and its variants, if a late completion published them, go too. A failure leaves it listed.
      if (record.status === 'confirmed') await this.storage.delete(uploaded)
      else await this.uploads.deleteObjects(record)
      // Touched (the same status): cleaned, not listed again until its next change.
      await this.store.transition(record.id, [record.status], record.status, now)
      result.cleaned++
    })
    if (!this.halted && this.storage.removeLeftovers !== undefined) {
      result.files = await this.storage.removeLeftovers(now).catch((err: unknown) => {
        this.log.warn({ err }, 'removing leftover files failed; retrying at the next interval')
        return 0
      })
    }
    return result
  }

  /**
   * Handles pages until none is left. Each page starts after the last record of the one before, so a record that
   * fails (logged, retried at the next pass) never hides the ones after it.
   */
  private async drain (list: (after?: PageCursor) => Promise<UploadRecord[]>, handle: (record: UploadRecord) => Promise<void>): Promise<void> {
    let after: PageCursor | undefined
    while (!this.halted) {
      const batch = await list(after)
      if (batch.length === 0) return
      for (const record of batch) {
        if (this.halted) return
        try {
          await handle(record)
        } catch (err) {
          this.log.warn({ err, key: record.key }, 'sweeping an upload failed; retrying at the next interval')
        }
        after = record
      }
    }
  }

  private schedule (): void {
    this.timer = setTimeout(() => {
      this.running = this.sweep()
        .then((r) => { if (r.confirmed + r.expired + r.rejected + r.cleaned + r.files > 0) this.log.info(r, 'swept uploads never completed and leftovers') })
        .catch((err: unknown) => { this.log.error({ err }, 'sweeping uploads failed; retrying at the next interval') })
        .finally(() => {
          this.running = undefined
          if (!this.halted) this.schedule()
        })
    }, this.config.sweepIntervalSeconds * 1000).unref()
  }
}
