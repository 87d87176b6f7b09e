// The upload record's columns, once: both stores' ticket INSERTs and row → record mappings follow from this list.
// A new field is a row here, a migration per store, and the record type (store.ts).
import type { NewUpload, OutboxEvent, PublishedImage, UploadRecord } from './record-store.js'

type Kind = 'text' | 'integer' | 'time' | 'json'

interface Column { field: keyof UploadRecord, column: string, kind: Kind, nullable?: true, insert?: (u: NewUpload) => unknown }

const from = (field: keyof NewUpload) => (u: NewUpload) => u[field]

export const UPLOAD_COLUMNS: readonly Column[] = [
  { field: 'id', column: 'id', kind: 'text', insert: from('id') },
  { field: 'ownerId', column: 'owner_id', kind: 'text', insert: from('ownerId') },
  { field: 'key', column: 'key', kind: 'text', insert: from('key') },
  { field: 'contentType', column: 'content_type', kind: 'text', insert: from('contentType') },
  { field: 'status', column: 'status', kind: 'text', insert: () => 'pending' },
  { field: 'maxBytes', column: 'max_bytes', kind: 'integer', insert: from('maxBytes') },
  { field: 'declaredSize', column: 'declared_size', kind: 'integer', nullable: true, insert: from('declaredSize') },
  { field: 'size', column: 'size', kind: 'integer', nullable: true },
  { field: 'image', column: 'image', kind: 'json', nullable: true },
  { field: 'createdAt', column: 'created_at', kind: 'time', insert: from('createdAt') },
  { field: 'expiresAt', column: 'expires_at', kind: 'time', insert: from('expiresAt') },
  { field: 'confirmedAt', column: 'confirmed_at', kind: 'time', nullable: true },
  { field: 'updatedAt', column: 'updated_at', kind: 'time', insert: from('createdAt') }
]

/** The columns a new ticket writes, in INSERT order. */
export const INSERT_COLUMNS = UPLOAD_COLUMNS.filter((c) => c.insert !== undefined)

/** How a store reads and writes one kind of value (SQLite keeps times as milliseconds, PostgreSQL as timestamptz; its bigints arrive as strings). */
export interface Codec { time: { read: (v: unknown) => Date, write: (d: Date) => unknown }, integer: (v: unknown) => number }

/** Each kind's decoder for one store's codec. */
const readers = (codec: Codec): Record<Kind, (v: unknown) => unknown> => ({
  text: (v) => v,
  integer: codec.integer,
  time: codec.time.read,
  json: (v) => JSON.parse(v as string) as PublishedImage
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
  const writers = INSERT_COLUMNS.map((c) => {
    const get = c.insert as (u: NewUpload) => unknown
    return c.kind === 'time' ? (u: NewUpload) => codec.time.write(get(u) as Date) : get
  })
  return {
    toUpload: rowReader<UploadRecord>(UPLOAD_COLUMNS.map((c) => [c.field, c.column, c.kind] as const), codec),
    /** Appends one ticket's INSERT values to `values`. */
    insertValues (u: NewUpload, values: unknown[]): void {
      for (const write of writers) values.push(write(u))
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
