// What answers and the webhook show of an upload record: its public URLs, the published image, the event body.
import type { ObjectStore } from '../objects/object-store.js'
import type { NewEvent, UploadRecord } from '../records/record-store.js'
import { newEventId } from './ids.js'

export interface VariantView { size: number, width: number, height: number, contentType: string, url: string }

/** The published image, as answers and the webhook show it (absent for images confirmed before processing existed). */
export interface ImageView { width?: number, height?: number, animated?: boolean, placeholder?: string, variants?: VariantView[] }

export type ConfirmedView = { uploadId: string, status: 'confirmed', key: string, url: string, contentType: string, size: number } & ImageView

export type UploadView = {
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
} & ImageView

export interface ConfirmedEventBody {
  type: 'image.confirmed'
  timestamp: string
  data: { uploadId: string, ownerId: string, key: string, url: string, contentType: string, size: number, createdAt: string } & ImageView
}

export interface DeletedEventBody {
  type: 'image.deleted'
  timestamp: string
  data: { uploadId: string, ownerId: string, key: string, url: string }
}

/** Views of records, with URLs from the object store. */
export class UploadViews {
  constructor (private readonly objects: Pick<ObjectStore, 'publicUrl'>) {}

  confirmedEvent (r: UploadRecord): NewEvent {
    const body: ConfirmedEventBody = {
      type: 'image.confirmed',
      timestamp: (r.confirmedAt ?? new Date()).toISOString(),
      data: { uploadId: r.id, ownerId: r.ownerId, key: r.key, url: this.objects.publicUrl(r.key), contentType: r.contentType, size: r.size ?? 0, ...this.imageView(r), createdAt: r.createdAt.toISOString() }
    }
    return { id: newEventId(), uploadId: r.id, type: body.type, payload: JSON.stringify(body), createdAt: new Date() }
  }

  /** After a DELETE of a confirmed upload: `r` is the deleted record. */
  deletedEvent (r: UploadRecord): NewEvent {
    const body: DeletedEventBody = {
      type: 'image.deleted',
      timestamp: r.updatedAt.toISOString(),
      data: { uploadId: r.id, ownerId: r.ownerId, key: r.key, url: this.objects.publicUrl(r.key) }
    }
    return { id: newEventId(), uploadId: r.id, type: body.type, payload: JSON.stringify(body), createdAt: new Date() }
  }

  imageView (r: UploadRecord): ImageView {
    const image = r.image
    if (image === null) return {}
    return {
      width: image.width,
      height: image.height,
      animated: image.animated,
      placeholder: image.placeholder,
      variants: image.variants.map((v) => ({ size: v.size, width: v.width, height: v.height, contentType: v.contentType, url: this.objects.publicUrl(v.key) }))
    }
  }

  confirmed (r: UploadRecord): ConfirmedView {
    return { uploadId: r.id, status: 'confirmed', key: r.key, url: this.objects.publicUrl(r.key), contentType: r.contentType, size: r.size ?? 0, ...this.imageView(r) }
  }

  upload (r: UploadRecord): UploadView {
    const hasImage = r.status === 'confirmed'
    return {
      uploadId: r.id,
      ownerId: r.ownerId,
      status: r.status,
      key: r.key,
      ...(hasImage ? { url: this.objects.publicUrl(r.key) } : {}),
      contentType: r.contentType,
      ...(r.size !== null ? { size: r.size } : {}),
      ...(hasImage ? this.imageView(r) : {}),
      createdAt: r.createdAt.toISOString(),
      expiresAt: r.expiresAt.toISOString(),
      ...(r.confirmedAt !== null ? { confirmedAt: r.confirmedAt.toISOString() } : {})
    }
  }
}
