// The upload domain: tickets, completion (verify what was stored), status, deletion and replacement.
// Routes call this; it calls the storage, the store (and through it the outbox).
import type { Config } from '../config.js'
import { EXTENSIONS } from '../config.js'
import { appError } from '../errors.js'
import type { Metrics } from '../metrics.js'
import type { Storage } from '../storage/storage.js'
import type { NewEvent, Store, UploadRecord } from '../store/store.js'
import { newEventId, newFileStem, newUploadId } from './ids.js'
import { detectImageType, MAGIC_BYTES } from './image-type.js'

export interface CreateUploadInput { ownerId: string, contentType: string, contentLength?: number }

export interface UploadTicketView {
  uploadId: string
  key: string
  upload: { method: 'POST', url: string, fields: Record<string, string> }
  publicUrl: string
  expiresAt: string
  maxBytes: number
}

/** What verify() found acceptable: the version checked, or `published` when the key already holds checked bytes. */
export interface Checked { size: number, etag?: string, published?: true, rejected?: string }

export interface ConfirmedView { uploadId: string, status: 'confirmed', key: string, url: string, contentType: string, size: number }

export interface UploadView {
  uploadId: string
  ownerId: string
  status: UploadRecord['status']
  key: string
  url?: string
  contentType: string
  size?: number
  createdAt: string
  expiresAt: string
  confirmedAt?: string
}

export interface ConfirmedEventBody {
  type: 'image.confirmed'
  timestamp: string
  data: { uploadId: string, ownerId: string, key: string, url: string, contentType: string, size: number }
}

// Tickets of one second share their expiry (whole seconds): its text is made once (toISOString formats with printf).
let lastIso = { ms: NaN, text: '' }
function isoString (date: Date): string {
  const ms = date.getTime()
  if (ms !== lastIso.ms) lastIso = { ms, text: date.toISOString() }
  return lastIso.text
}

export class UploadService {
  /** Called after a confirmation commits, so the dispatcher delivers without waiting for its next poll. */
  onConfirmed: () => void = () => {}

  constructor (
    private readonly config: Config,
    private readonly storage: Storage,
    private readonly store: Store,
    private readonly metrics: Metrics
  ) {}

  async create (input: CreateUploadInput): Promise<UploadTicketView> {
    const { maxBytes, allowedContentTypes, ttlSeconds } = this.config.upload
    const contentType = input.contentType.toLowerCase()
    if (!allowedContentTypes.includes(contentType)) {
      throw appError('CONTENT_TYPE_NOT_ALLOWED', `contentType "${input.contentType}"; expected one of ${allowedContentTypes.join(', ')}`)
    }
    if (input.contentLength !== undefined && input.contentLength > maxBytes) {
      throw appError('TOO_LARGE', `contentLength ${input.contentLength} exceeds MAX_UPLOAD_BYTES (${maxBytes})`)
    }
    const key = `${this.config.s3.keyPrefix}${newFileStem()}.${EXTENSIONS[contentType] ?? 'bin'}`
    const now = new Date()
    const target = await this.storage.createUploadTarget({
      key, contentType, maxBytes, expiresAt: new Date(now.getTime() + ttlSeconds * 1000)
    })
    const id = newUploadId()
    await this.store.createUpload({
      id, ownerId: input.ownerId, key, contentType, maxBytes, declaredSize: input.contentLength ?? null, createdAt: now, expiresAt: target.expiresAt
    })
    this.metrics.uploads.inc({ outcome: 'ticket' })
    return {
      uploadId: id,
      key,
      upload: { method: 'POST', url: target.url, fields: target.fields },
      publicUrl: this.storage.publicUrl(key),
      expiresAt: isoString(target.expiresAt),
      maxBytes
    }
  }

  async get (id: string): Promise<UploadView> {
    return this.view(await this.find(id))
  }

  /** Verifies the stored object and confirms it: exists, size in range, first bytes are the declared type. */
  async complete (id: string): Promise<ConfirmedView> {
    const record = await this.find(id)
    switch (record.status) {
      case 'confirmed': return this.confirmedView(record)
      case 'rejected': throw appError('NOT_AN_IMAGE', 'this upload was already rejected')
      case 'expired': throw appError('TICKET_EXPIRED')
      case 'replaced': case 'deleted': throw appError('UPLOAD_GONE', `status is ${record.status}`)
      case 'pending': break
    }
    const outcome = await this.verify(record)
    if (outcome === 'missing') {
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
    if (outcome.rejected !== undefined) throw appError('NOT_AN_IMAGE', outcome.rejected)
    const confirmed = await this.confirm(record, outcome)
    return this.confirmedView(confirmed)
  }

  /**
   * Checks the uploaded object of a pending upload. A bad object is deleted and the upload marked rejected.
   * Shared by completion and the sweeper, so both apply the same checks.
   */
  async verify (record: UploadRecord): Promise<'missing' | Checked> {
    let uploaded = this.storage.uploadedKey(record.key)
    let head = await this.storage.head(uploaded)
    // No staging object but the key: promoted by a completion whose confirmation did not commit (or has not yet), or
    // posted by a form signed before staging keys existed. Checked the same way; then nothing is left to promote.
    if (head === undefined && uploaded !== record.key) {
      uploaded = record.key
      head = await this.storage.head(uploaded)
    }
    if (head === undefined) return 'missing'
    const published = uploaded !== this.storage.uploadedKey(record.key) ? { published: true as const } : {}
    let rejected: string | undefined
    if (head.size < 1 || head.size > record.maxBytes) rejected = `size ${head.size} is outside 1..${record.maxBytes} bytes`
    else {
      const found = detectImageType(await this.storage.readStart(uploaded, MAGIC_BYTES, head.etag))
      if (found !== record.contentType) rejected = `declared ${record.contentType}, the bytes are ${found ?? 'not an accepted image type'}`
    }
    if (rejected !== undefined) {
      // The state change first, then the delete: a concurrent completion or sweep that settled this upload
      // first keeps its outcome, and a confirmed image is never deleted here.
      if (await this.store.transition(record.id, ['pending'], 'rejected', new Date()) === undefined) {
        const settled = await this.find(record.id)
        // Confirmed by the other: its bytes were published, these (a later re-post) never are.
        return settled.status === 'confirmed' ? { size: settled.size ?? head.size, published: true } : { size: head.size, rejected }
      }
      await this.storage.delete(uploaded)
      this.metrics.uploads.inc({ outcome: 'rejected' })
    }
    return { size: head.size, ...published, ...(head.etag !== undefined ? { etag: head.etag } : {}), ...(rejected !== undefined ? { rejected } : {}) }
  }

  /**
   * Publishes the checked object (before the commit: the webhook's URL must work), then pending → confirmed with its
   * image.confirmed event, in one transaction. Repeats write no second event.
   */
  async confirm (record: UploadRecord, checked: Checked): Promise<UploadRecord> {
    const { size } = checked
    if (checked.published !== true) await this.storage.promote(record.key, checked.etag)
    const result = await this.store.confirmUpload(record.id, size, new Date(), (r) => this.confirmedEvent(r))
    if (result === undefined) throw appError('UPLOAD_NOT_FOUND')
    if (result.record.status !== 'confirmed') {
      // Deleted, rejected or expired meanwhile: what was just published goes too.
      if (checked.published !== true) await this.deleteObjects(record.key)
      throw appError('UPLOAD_GONE', `status is ${result.record.status}`)
    }
    if (result.changed) {
      this.metrics.uploads.inc({ outcome: 'confirmed' })
      this.metrics.bytes.inc(size)
      this.onConfirmed()
    }
    return result.record
  }

  async delete (id: string): Promise<void> {
    const record = await this.find(id)
    if (record.status === 'deleted') return
    await this.deleteObjects(record.key)
    if (await this.store.transition(record.id, ['pending', 'confirmed', 'rejected', 'expired', 'replaced'], 'deleted', new Date()) !== undefined) {
      this.metrics.uploads.inc({ outcome: 'deleted' })
    }
  }

  /** After the webhook for `uploadId` was acknowledged: the owner's older confirmed images are deleted. */
  async replaceOlder (uploadId: string): Promise<number> {
    const newer = await this.store.getUpload(uploadId)
    if (newer?.status !== 'confirmed') return 0
    let replaced = 0
    for (const old of await this.store.listReplaceable(newer.ownerId, newer)) {
      await this.deleteObjects(old.key)
      if (await this.store.transition(old.id, ['confirmed'], 'replaced', new Date()) !== undefined) replaced++
    }
    this.metrics.uploads.inc({ outcome: 'replaced' }, replaced)
    return replaced
  }

  /** The image and whatever was posted for it (a staging object in production). */
  private async deleteObjects (key: string): Promise<void> {
    await this.storage.delete(key)
    const uploaded = this.storage.uploadedKey(key)
    if (uploaded !== key) await this.storage.delete(uploaded)
  }

  private confirmedEvent (r: UploadRecord): NewEvent {
    const body: ConfirmedEventBody = {
      type: 'image.confirmed',
      timestamp: (r.confirmedAt ?? new Date()).toISOString(),
      data: { uploadId: r.id, ownerId: r.ownerId, key: r.key, url: this.storage.publicUrl(r.key), contentType: r.contentType, size: r.size ?? 0 }
    }
    return { id: newEventId(), uploadId: r.id, type: body.type, payload: JSON.stringify(body), createdAt: new Date() }
  }

  private async find (id: string): Promise<UploadRecord> {
    const record = await this.store.getUpload(id)
    if (record === undefined) throw appError('UPLOAD_NOT_FOUND', `uploadId "${id}"`)
    return record
  }

  private confirmedView (r: UploadRecord): ConfirmedView {
    return { uploadId: r.id, status: 'confirmed', key: r.key, url: this.storage.publicUrl(r.key), contentType: r.contentType, size: r.size ?? 0 }
  }

  private view (r: UploadRecord): UploadView {
    const hasImage = r.status === 'confirmed'
    return {
      uploadId: r.id,
      ownerId: r.ownerId,
      status: r.status,
      key: r.key,
      ...(hasImage ? { url: this.storage.publicUrl(r.key) } : {}),
      contentType: r.contentType,
      ...(r.size !== null ? { size: r.size } : {}),
      createdAt: r.createdAt.toISOString(),
      expiresAt: r.expiresAt.toISOString(),
      ...(r.confirmedAt !== null ? { confirmedAt: r.confirmedAt.toISOString() } : {})
    }
  }
}
