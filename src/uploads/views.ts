// What answers and the webhook show of an upload record: its public URLs, the published image, the event body.
// Each view is its response schema (routes/schemas.ts, webhook-schemas.ts): a property the schema names is the
// record's field of that name unless the view gives its own value, so a field shown as stored is named only there.
import type { Static, TObject } from '@sinclair/typebox'
import type { ObjectStore } from '../objects/object-store.js'
import type { NewEvent, UploadRecord } from '../records/record-store.js'
import { Confirmed, Upload } from '../routes/schemas.js'
import { ImageConfirmedEvent, ImageDeletedEvent } from '../routes/webhook-schemas.js'
import { newEventId } from './ids.js'

export interface VariantView { size: number, width: number, height: number, contentType: string, url: string }

/** The published image, as answers and the webhook show it (absent for images confirmed before processing existed). */
export interface ImageView { width?: number, height?: number, animated?: boolean, placeholder?: string, variants?: VariantView[] }

export type ConfirmedView = Static<typeof Confirmed>
export type UploadView = Static<typeof Upload>
export type ConfirmedEventBody = Static<typeof ImageConfirmedEvent>
export type DeletedEventBody = Static<typeof ImageDeletedEvent>

type Shown<T> = T extends Date ? string : T
/** The record as a view shows it: a time as ISO text; a field that may be null may be absent. */
type RecordShown = { [K in keyof UploadRecord as null extends UploadRecord[K] ? never : K]: Shown<UploadRecord[K]> } &
{ [K in keyof UploadRecord as null extends UploadRecord[K] ? K : never]?: Shown<NonNullable<UploadRecord[K]>> }
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T]

/**
 * The view `schema` describes, its properties in the schema's order (a webhook body is sent as built): `own`'s value,
 * else the record's field of that name, a time as ISO text, a null left out. A property neither gives fails to compile.
 */
function shown<S extends TObject, O extends object> (schema: S, r: UploadRecord, own: O): RecordShown & O extends Static<S> ? Static<S> : { unmatched: Exclude<RequiredKeys<Static<S>>, RequiredKeys<RecordShown & O>> } {
  const out: Record<string, unknown> = {}
  for (const name of Object.keys(schema.properties)) {
    const v: unknown = Object.hasOwn(own, name) ? (own as Record<string, unknown>)[name] : (r as Record<string, unknown>)[name]
    if (v !== null && v !== undefined) out[name] = v instanceof Date ? v.toISOString() : v
  }
  return out as never
}

/** Views of records, with URLs from the object store. */
export class UploadViews {
  constructor (private readonly objects: Pick<ObjectStore, 'publicUrl'>) {}

  confirmedEvent (r: UploadRecord): NewEvent {
    const body: ConfirmedEventBody = {
      type: 'image.confirmed',
      timestamp: (r.confirmedAt ?? new Date()).toISOString(),
      data: shown(ImageConfirmedEvent.properties.data, r, { uploadId: r.id, url: this.objects.publicUrl(r.key), size: r.size ?? 0, ...this.imageView(r) })
    }
    return { id: newEventId(), uploadId: r.id, type: body.type, payload: JSON.stringify(body), createdAt: new Date() }
  }

  /** After a DELETE of a confirmed upload: `r` is the deleted record. */
  deletedEvent (r: UploadRecord): NewEvent {
    const body: DeletedEventBody = {
      type: 'image.deleted',
      timestamp: r.updatedAt.toISOString(),
      data: shown(ImageDeletedEvent.properties.data, r, { uploadId: r.id, url: this.objects.publicUrl(r.key) })
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
    return shown(Confirmed, r, { uploadId: r.id, status: 'confirmed' as const, url: this.objects.publicUrl(r.key), size: r.size ?? 0, ...this.imageView(r) })
  }

  /** Where the image is and what it is, only while it is the confirmed one. */
  upload (r: UploadRecord): UploadView {
    const image = r.status === 'confirmed' ? { url: this.objects.publicUrl(r.key), ...this.imageView(r) } : {}
    return shown(Upload, r, { uploadId: r.id, ...image })
  }
}
