// The upload record, declared once: each field's name, type and column. The record type (UploadRecord), a ticket's
// values (NewUpload), both stores' ticket INSERTs and row → record mappings follow from these lists, so a new field
// is a row here and a migration per store.
import type { OutboxEvent, PublishedImage, UploadStatus } from './record-store.js'

type Kind = 'text' | 'integer' | 'time' | 'json'
/** The kind a value of type T is stored as: the kind passed for a field must agree with its type. */
type KindOf<T> = [NonNullable<T>] extends [string] ? 'text' : [NonNullable<T>] extends [number] ? 'integer' : [NonNullable<T>] extends [Date] ? 'time' : 'json'

/** One field: its column and kind; `T`, its type, is only declared. A null is a NULL of any kind. */
interface Field<T> { readonly column: string, readonly kind: Kind, readonly type?: T }
/** A field the ticket does not give: `initial`, what a new ticket's row holds (NULL without). */
interface LaterField<T> extends Field<T> { readonly initial?: (ticket: NewUpload) => T }

const field = <T>(column: string, kind: KindOf<T>): Field<T> => ({ column, kind })
const later = <T>(column: string, kind: KindOf<T>, initial?: (ticket: NewUpload) => T): LaterField<T> =>
  initial === undefined ? { column, kind } : { column, kind, initial }

type Values<F> = { -readonly [K in keyof F]: F[K] extends Field<infer T> ? T : never }
/** Fields that may be null may be left out of a ticket (stored as NULL). */
type Given<V> = { [K in keyof V as null extends V[K] ? never : K]: V[K] } & { [K in keyof V as null extends V[K] ? K : never]?: V[K] }

/** What a ticket gives (the service's create()). */
const TICKET_FIELDS = {
  id: field<string>('id', 'text'),
  ownerId: field<string>('owner_id', 'text'),
  key: field<string>('key', 'text'),
  contentType: field<string>('content_type', 'text'),
  /** Largest size the ticket allowed. */
  maxBytes: field<number>('max_bytes', 'integer'),
  /** Size the client declared, if it did. */
  declaredSize: field<number | null>('declared_size', 'integer'),
  createdAt: field<Date>('created_at', 'time'),
  expiresAt: field<Date>('expires_at', 'time')
}

export type NewUpload = Given<Values<typeof TICKET_FIELDS>>

/** What the store and the service set as the upload goes on. */
const LATER_FIELDS = {
  status: later<UploadStatus>('status', 'text', () => 'pending'),
  /** Size of the published main image, once confirmed. */
  size: later<number | null>('size', 'integer'),
  /** The published image's dimensions, placeholder and variants, once confirmed; while pending, what a completion is about to publish (planImage). */
  image: later<PublishedImage | null>('image', 'json'),
  confirmedAt: later<Date | null>('confirmed_at', 'time'),
  updatedAt: later<Date>('updated_at', 'time', (ticket) => ticket.createdAt)
}

const UPLOAD_FIELDS = { ...TICKET_FIELDS, ...LATER_FIELDS }

export type UploadRecord = Values<typeof UPLOAD_FIELDS>

/** (field, column, kind) of every field, and what a new ticket writes to each column it writes. */
const UPLOAD_COLUMNS = Object.entries<LaterField<unknown>>(UPLOAD_FIELDS).map(([name, f]) => ({ name, ...f }))
const ticketValue = (name: string) => (u: NewUpload) => (u as Record<string, unknown>)[name]

/** The columns a new ticket writes, in INSERT order. */
export const INSERT_COLUMNS = UPLOAD_COLUMNS.flatMap((c) => {
  const value = c.name in TICKET_FIELDS ? ticketValue(c.name) : c.initial
  return value === undefined ? [] : [{ ...c, value }]
})

/** How a store reads and writes one kind of value (SQLite keeps times as milliseconds, PostgreSQL as timestamptz; its bigints arrive as strings). */
export interface Codec { time: { read: (v: unknown) => Date, write: (d: Date) => unknown }, integer: (v: unknown) => number }

/** Each kind's decoder for one store's codec. */
const readers = (codec: Codec): Record<Kind, (v: unknown) => unknown> => ({
  text: (v) => v,
  integer: codec.integer,
  time: codec.time.read,
  json: (v) => JSON.parse(v as string) as unknown
})

/** Each kind's encoder for one store's codec. */
const writers = (codec: Codec): Record<Kind, (v: unknown) => unknown> => ({
  text: (v) => v,
  integer: (v) => v,
  time: (v) => codec.time.write(v as Date),
  json: (v) => JSON.stringify(v)
})

/** Row → object over (field, column, kind) triples; a NULL column is null. */
function rowReader<T> (columns: ReadonlyArray<readonly [string, string, Kind]>, codec: Codec): (row: Record<string, unknown>) => T {
  const read = readers(codec)
  const decoders = columns.map(([field, column, kind]) => [field, column, read[kind]] as const)
  return (row) => {
    const out: Record<string, unknown> = {}
    for (const [field, column, decode] of decoders) {
      const v = row[column]
      out[field] = v === null || v === undefined ? null : decode(v)
    }
    return out as T
  }
}

/** Row → record and NewUpload → INSERT values, for one store's codec. */
export function uploadMapping (codec: Codec) {
  const write = writers(codec)
  const values = INSERT_COLUMNS.map((c) => {
    const encode = write[c.kind]
    return (u: NewUpload) => {
      const v = c.value(u)
      return v === null || v === undefined ? null : encode(v)
    }
  })
  return {
    toUpload: rowReader<UploadRecord>(UPLOAD_COLUMNS.map((c) => [c.name, c.column, c.kind] as const), codec),
    /** Appends one ticket's INSERT values to `values`. */
    insertValues (u: NewUpload, into: unknown[]): void {
      for (const value of values) into.push(value(u))
    }
  }
}

export const insertColumnList = INSERT_COLUMNS.map((c) => c.column).join(', ')

const EVENT_COLUMNS: ReadonlyArray<readonly [keyof OutboxEvent, string, Kind]> = [
  ['id', 'id', 'text'], ['uploadId', 'upload_id', 'text'], ['type', 'type', 'text'], ['payload', 'payload', 'text'],
  ['status', 'status', 'text'], ['attempts', 'attempts', 'integer'], ['nextAttemptAt', 'next_attempt_at', 'time'],
  ['leaseUntil', 'lease_until', 'time'], ['lastError', 'last_error', 'text'], ['createdAt', 'created_at', 'time'],
  ['deliveredAt', 'delivered_at', 'time']
]

/** Outbox row → event, for one store's codec. */
export const eventMapping = (codec: Codec): (row: Record<string, unknown>) => OutboxEvent => rowReader<OutboxEvent>(EVENT_COLUMNS, codec)
