// What keeps the SQLite store cheap as it grows: the outbox counts, kept by triggers (migration 7), and retention
// (RecordStore.pruneEvents, pruneUploads): one DELETE of at most `limit` rows per call, found in order through its
// own index, so one batch holds the event loop briefly.
import type Database from 'better-sqlite3'
import type { EventStatus, PruneBatch } from './record-store.js'

interface Window { before: number, from: number, limit: number }
type Batch = Database.Statement<[Window], { at: number }>

const start = Number.MIN_SAFE_INTEGER

/** `at` of the rows a batch removed: the last one is where the next batch starts. */
function batch (rows: Array<{ at: number }>, from: number): PruneBatch {
  const last = rows.reduce((max, r) => Math.max(max, r.at), from)
  return { removed: rows.length, ...(last === start ? {} : { resume: new Date(last) }) }
}

export class SqliteRetention {
  private readonly count: Database.Statement<[], { status: EventStatus, n: number }>
  private readonly delivered: Batch
  private readonly dead: Database.Statement<[{ before: number, limit: number }]>
  private readonly uploads: Batch

  constructor (db: Database.Database) {
    this.count = db.prepare('SELECT status, n FROM outbox_counts')
    // Delivered after it was created: the index's range on created_at holds every event delivered before the cut-off.
    this.delivered = db.prepare(`DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status = 'delivered' AND created_at >= @from AND created_at < @before
      AND delivered_at < @before ORDER BY created_at LIMIT @limit) RETURNING created_at AS at`)
    // A dead image.confirmed of an upload still confirmed stays (RecordStore.pruneEvents). Dead events are few.
    this.dead = db.prepare(`DELETE FROM outbox WHERE id IN (SELECT o.id FROM outbox o WHERE o.status = 'dead' AND o.next_attempt_at < @before
      AND NOT (o.type = 'image.confirmed' AND EXISTS (SELECT 1 FROM uploads u WHERE u.id = o.upload_id AND u.status = 'confirmed')) LIMIT @limit)`)
    // Expired, or changed after the ticket expired: not a leftover the sweeper has yet to clean (listLeftovers). No
    // event left: the outbox refers to its upload.
    this.uploads = db.prepare(`DELETE FROM uploads WHERE id IN (SELECT u.id FROM uploads u WHERE u.status NOT IN ('pending', 'confirmed') AND u.updated_at >= @from
      AND u.updated_at < @before AND (u.status = 'expired' OR u.updated_at >= u.expires_at) AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.upload_id = u.id)
      ORDER BY u.updated_at LIMIT @limit) RETURNING updated_at AS at`)
  }

  /** Three rows, however many events there are. */
  counts (): Record<EventStatus, number> {
    const counts: Record<EventStatus, number> = { pending: 0, delivered: 0, dead: 0 }
    for (const { status, n } of this.count.all()) counts[status] = n
    return counts
  }

  /** Delivered events first, then dead ones, `limit` in all. */
  events (before: number, limit: number, from = start): PruneBatch {
    const delivered = batch(this.delivered.all({ before, from, limit }), from)
    if (delivered.removed >= limit) return delivered
    return { ...delivered, removed: delivered.removed + this.dead.run({ before, limit: limit - delivered.removed }).changes }
  }

  finishedUploads (before: number, limit: number, from = start): PruneBatch {
    return batch(this.uploads.all({ before, from, limit }), from)
  }
}
