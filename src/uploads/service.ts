// The upload domain: tickets, completion (verify and publish a clean image), status, deletion and replacement.
// Routes and the sweeper call this; it calls the image pipeline, the storage, the store (and through it the outbox).
import type { Static } from '@sinclair/typebox'
import type { Config } from '../config.js'
import { AppError, appError } from '../errors.js'
import { processImage, type ProcessedImage } from '../images/pipeline.js'
import { ProcessingQueue } from '../images/queue.js'
import type { Metrics } from '../metrics.js'
import type { ObjectStore } from '../objects/object-store.js'
import type { PublishedImage, RecordStore, UploadRecord } from '../records/record-store.js'
import type { CreateUploadBody } from '../routes/schemas.js'
import { formatOfType } from './formats.js'
import { newUploadId } from './ids.js'
import { imageKey, variantKey } from './keys.js'
import { UploadViews, type ConfirmedView, type UploadView } from './views.js'

export type CreateUploadInput = Static<typeof CreateUploadBody>

export interface UploadTicketView {
  uploadId: string
  key: string
  upload: { method: 'POST', url: string, fields: Record<string, string> }
  publicUrl: string
  expiresAt: string
  maxBytes: number
}

export type SweepOutcome = 'confirmed' | 'expired' | 'rejected'

// Tickets of one second share their expiry (whole seconds): its text is made once (toISOString formats with printf).
let lastIso = { ms: NaN, text: '' }
function isoString (date: Date): string {
  const ms = date.getTime()
  if (ms !== lastIso.ms) lastIso = { ms, text: date.toISOString() }
  return lastIso.text
}

export class UploadService {
  /** Called after a confirmation or a deletion commits its event, so the dispatcher delivers without waiting for its next poll. */
  onEvent: () => void = () => {}
  private readonly queue: ProcessingQueue
  private readonly views: UploadViews
  /** Completions running in this process by upload id: a repeat call waits for the one running. */
  private readonly running = new Map<string, Promise<UploadRecord | 'missing'>>()

  constructor (
    private readonly config: Config,
    private readonly storage: ObjectStore,
    private readonly store: RecordStore,
    private readonly metrics: Metrics
  ) {
    this.queue = new ProcessingQueue(config.images.concurrency, config.images.queueLimit)
    this.views = new UploadViews(storage)
  }

  /** The body's other fields (ownerId, …) are the record's fields of the same name, stored as given. */
  async create (input: CreateUploadInput): Promise<UploadTicketView> {
    const { contentType: requested, contentLength: declared, ...given } = input
    const { maxBytes, allowedContentTypes, ttlSeconds } = this.config.upload
    const contentType = requested.toLowerCase()
    const format = formatOfType(contentType)
    if (format === undefined || !allowedContentTypes.includes(contentType)) {
      throw appError('CONTENT_TYPE_NOT_ALLOWED', `contentType "${requested}"; expected one of ${allowedContentTypes.join(', ')}`)
    }
    if (declared !== undefined && declared > maxBytes) {
      throw appError('TOO_LARGE', `contentLength ${declared} exceeds MAX_UPLOAD_BYTES (${maxBytes})`)
    }
    const key = imageKey(this.config.s3.keyPrefix, format)
    const now = new Date()
    // A declared size is the exact size allowed: the form's range is [contentLength, contentLength].
    const allowed = declared ?? maxBytes
    const target = await this.storage.createUploadTarget({
      key, contentType, maxBytes: allowed, ...(declared !== undefined ? { minBytes: declared } : {}), expiresAt: new Date(now.getTime() + ttlSeconds * 1000)
    })
    const id = newUploadId()
    await this.store.createUpload({
      ...given, id, key, contentType, maxBytes: allowed, declaredSize: declared ?? null, createdAt: now, expiresAt: target.expiresAt
    })
    this.metrics.uploads.inc({ outcome: 'ticket' })
    return {
      uploadId: id,
      key,
      upload: { method: 'POST', url: target.url, fields: target.fields },
      publicUrl: this.storage.publicUrl(key),
      expiresAt: isoString(target.expiresAt),
      maxBytes: allowed
    }
  }

  async get (id: string): Promise<UploadView> {
    return this.views.upload(await this.find(id))
  }

  /** Checks what was uploaded and publishes its clean image; idempotent. */
  async complete (id: string): Promise<ConfirmedView> {
    const record = await this.find(id)
    if (record.status !== 'pending') return this.views.confirmed(this.settled(record))
    const outcome = await this.publish(record)
    if (outcome !== 'missing') return this.views.confirmed(outcome)
    const expiredFor = Date.now() - record.expiresAt.getTime()
    if (expiredFor > 0) {
      // A transfer that began before expiry may still land during the grace period: only then is it final.
      if (expiredFor > this.config.upload.graceSeconds * 1000 && await this.store.transition(record.id, ['pending'], 'expired', new Date()) !== undefined) {
        this.metrics.uploads.inc({ outcome: 'expired' })
      }
      throw appError('TICKET_EXPIRED')
    }
    throw appError('NOT_UPLOADED')
  }

  /** The sweeper's completion of a pending upload whose ticket expired: the same checks and pipeline. */
  async settleExpired (record: UploadRecord): Promise<SweepOutcome> {
    try {
      if (await this.publish(record) !== 'missing') return 'confirmed'
    } catch (err) {
      if (err instanceof AppError && err.statusCode === 422) return 'rejected'
      throw err
    }
    if (await this.store.transition(record.id, ['pending'], 'expired', new Date()) !== undefined) this.metrics.uploads.inc({ outcome: 'expired' })
    return 'expired'
  }

  /** A record that is no longer pending, as completion answers it: confirmed, or the error its status means. */
  private settled (record: UploadRecord): UploadRecord {
    switch (record.status) {
      case 'confirmed': return record
      case 'rejected': throw appError('NOT_AN_IMAGE', 'this upload was already rejected; upload the image again with a new ticket')
      case 'expired': throw appError('TICKET_EXPIRED')
      case 'replaced': case 'deleted': throw appError('UPLOAD_GONE', `status is ${record.status}`)
      case 'pending': return record
    }
  }

  /** One publication per upload at a time in this process (a double click, a retry while the first still runs). */
  private async publish (record: UploadRecord): Promise<UploadRecord | 'missing'> {
    const running = this.running.get(record.id)
    if (running !== undefined) return await running
    const work = this.process(record).finally(() => this.running.delete(record.id))
    this.running.set(record.id, work)
    return await work
  }

  /**
   * Reads the staging object, makes the clean image (images/pipeline.ts), writes every object, then commits
   * pending → confirmed with its image.confirmed event. Until the commit the upload stays pending with its staging
   * object, so a crash half-way is finished by the next call or the sweeper (the keys are fixed: a retry overwrites).
   * An object that is not a usable image is deleted and the upload rejected (422).
   */
  private async process (record: UploadRecord): Promise<UploadRecord | 'missing'> {
    const staging = this.storage.uploadedKey(record.key)
    // Read inside the processing slot: completions waiting their turn hold no upload in memory.
    const outcome = await this.queue.run(async (): Promise<ProcessedImage | AppError | undefined> => {
      const staged = await this.storage.read(staging, record.maxBytes)
      if (staged === undefined) return undefined
      try {
        const format = formatOfType(record.contentType)
        if (format === undefined) throw appError('NOT_AN_IMAGE', `${record.contentType} is no longer an image type the service reads`)
        const body = staged.body
        // Bytes that reached the staging key past the form (another tool, an older ticket's form): checked here too.
        if (record.declaredSize !== null && staged.size !== record.declaredSize) throw appError('SIZE_OUT_OF_RANGE', `${staged.size} bytes; the ticket declared exactly ${record.declaredSize}`)
        if (body === undefined || staged.size < 1) throw appError('SIZE_OUT_OF_RANGE', `${staged.size} bytes; the ticket allowed 1 to ${record.maxBytes}`)
        return await processImage(body, format, this.config.images)
      } catch (err) {
        if (err instanceof AppError && err.statusCode === 422) return err
        throw err
      }
    })
    if (outcome === undefined) {
      // Published and removed meanwhile by another replica's completion, or never uploaded.
      const now = await this.find(record.id)
      return now.status === 'pending' ? 'missing' : this.settled(now)
    }
    if (outcome instanceof AppError) return await this.reject(record, outcome)
    const image = outcome
    const published: PublishedImage = {
      width: image.main.width,
      height: image.main.height,
      animated: image.animated,
      placeholder: image.placeholder,
      variants: image.variants.map((v) => ({ size: v.size, width: v.width, height: v.height, contentType: v.format.contentType, key: variantKey(record.key, v.size, v.format) }))
    }
    // Recorded before any object is written, so a run that stops half-way leaves none unrecorded; variants such a run
    // made for other settings (IMAGE_VARIANTS changed since) go first.
    const keep = new Set(published.variants.map((v) => v.key))
    await Promise.all((record.image?.variants ?? []).filter((v) => !keep.has(v.key)).map(async (v) => { await this.storage.delete(v.key) }))
    if (!await this.store.planImage(record.id, published)) return this.settled(await this.find(record.id))
    // Variants first, the main image last: once its URL answers, every object is in place.
    await Promise.all(image.variants.map((v, i) => this.storage.put(published.variants[i]?.key ?? '', v.body, v.format.contentType)))
    await this.storage.put(record.key, image.main.body, image.main.format.contentType)
    const result = await this.store.confirmUpload(record.id, image.main.body.length, new Date(), (r) => this.views.confirmedEvent(r), published)
    if (result === undefined) throw appError('UPLOAD_NOT_FOUND')
    if (result.record.status !== 'confirmed') {
      // Deleted, rejected or expired meanwhile: what was just published goes too.
      await this.deleteObjects({ ...result.record, image: published })
      throw appError('UPLOAD_GONE', `status is ${result.record.status}`)
    }
    if (result.changed) {
      this.metrics.uploads.inc({ outcome: 'confirmed' })
      this.metrics.bytes.inc(result.record.size ?? 0)
      this.onEvent()
    }
    // Done with: a failure here leaves it to the sweeper (a confirmed upload's leftovers).
    await this.storage.delete(staging).catch(() => {})
    return result.record
  }

  /**
   * The state change first, then the delete: a concurrent completion or sweep that settled this upload first keeps
   * its outcome, and a confirmed image is never deleted here. Throws `err`, or returns the other's confirmation.
   */
  private async reject (record: UploadRecord, err: AppError): Promise<UploadRecord> {
    if (await this.store.transition(record.id, ['pending'], 'rejected', new Date()) === undefined) {
      const now = await this.find(record.id)
      if (now.status === 'confirmed') return now
      throw err
    }
    await this.deleteObjects(record)
    this.metrics.uploads.inc({ outcome: 'rejected' })
    throw err
  }

  /**
   * The status first, with the outbox in the same transaction (an image.confirmed not yet delivered is never sent;
   * a confirmed upload queues image.deleted), then the objects: once it answers, no event will hand out the URL. A
   * failed or interrupted delete of the objects is done again by a repeat DELETE.
   */
  async delete (id: string): Promise<void> {
    const record = await this.find(id)
    if (record.status !== 'deleted') {
      const result = await this.store.deleteUpload(record.id, new Date(), (r) => this.views.deletedEvent(r))
      if (result !== undefined) {
        this.metrics.uploads.inc({ outcome: 'deleted' })
        if (result.was === 'confirmed') this.onEvent()
      }
    }
    await this.deleteObjects(record)
  }

  /**
   * After the webhook for `uploadId` was acknowledged: the owner's images of older tickets are deleted (replaced),
   * whenever they were confirmed. When a newer ticket's image was confirmed and delivered before this one (the
   * sweeper confirmed an upload abandoned in a closed tab), this one lost: it is replaced itself.
   */
  async replaceOlder (uploadId: string): Promise<number> {
    const acknowledged = await this.store.getUpload(uploadId)
    if (acknowledged?.status !== 'confirmed') return 0
    const losers = await this.store.listReplaceable(acknowledged.ownerId, acknowledged)
    if (await this.store.supersededBy(acknowledged.ownerId, acknowledged) !== undefined) losers.push(acknowledged)
    let replaced = 0
    for (const old of losers) {
      await this.deleteObjects(old)
      if (await this.store.transition(old.id, ['confirmed'], 'replaced', new Date()) !== undefined) replaced++
    }
    this.metrics.uploads.inc({ outcome: 'replaced' }, replaced)
    return replaced
  }

  /**
   * The image, its variants and whatever was posted for it. Variants are those recorded, and those the current
   * settings would make (a completion that stopped half-way wrote them without recording them).
   */
  async deleteObjects (record: Pick<UploadRecord, 'key' | 'contentType' | 'image'>): Promise<void> {
    const keys = new Set([record.key, this.storage.uploadedKey(record.key), ...(record.image?.variants ?? []).map((v) => v.key)])
    for (const size of this.config.images.variants) keys.add(variantKey(record.key, size, this.config.images.variantFormat))
    await Promise.all([...keys].map(async (key) => { await this.storage.delete(key) }))
  }

  private async find (id: string): Promise<UploadRecord> {
    const record = await this.store.getUpload(id)
    if (record === undefined) throw appError('UPLOAD_NOT_FOUND', `uploadId "${id}"`)
    return record
  }
}
