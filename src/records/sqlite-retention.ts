// What keeps the SQLite store cheap as it grows: the outbox counts, kept by triggers (migration 7), and retention
// (RecordStore.pruneEvents, pruneUploads): at most `limit` rows per call, found in order through their own index and
// deleted in one transaction, so one batch holds the event loop briefly.
import type Database from 'better-sqlite3'
import type { EventStatus, PruneBatch, PruneCursor } from './record-store.js'

interface Window { before: number, at: number, id: string, limit: number }
interface Due { id: string, at: number }

/** After `after`, or from the first row ('' sorts before every id). */
const window = (before: number, limit: number, after?: PruneCursor): Window =>
  ({ before, limit, at: after?.at.getTime() ?? Number.MIN_SAFE_INTEGER, id: after?.id ?? '' })

/** A batch that looked at `due` (in order) and removed `removed` of them. */
function batch (due: Due[], removed: number, limit: number, after?: PruneCursor): PruneBatch {
  const last = due.at(-1)
  const resume = last === undefined ? after : { at: new Date(last.at), id: last.id }
  return { removed, ...(resume === undefined ? {} : { resume }), done: due.length < limit }
}

export class SqliteRetention {
  private readonly count: Database.Statement<[], { status: EventStatus, n: number }>
  private readonly deliveredDue: Database.Statement<[Window], Due>
  private readonly uploadsDue: Database.Statement<[Window], Due>
  private readonly deleteEvent: Database.Statement<[string]>
  private readonly deleteUpload: Database.Statement<[string]>
  private readonly dead: Database.Statement<[{ before: number, limit: number }]>
  /** Deletes the rows listed, in one transaction; returns how many went. */
  private readonly remove: (statement: Database.Statement<[string]>, due: Due[]) => number

  constructor (db: Database.Database) {
    this.count = db.prepare('SELECT status, n FROM outbox_counts')
    // Delivered after it was created: the index's range on created_at holds every event delivered before the cut-off.
    this.deliveredDue = db.prepare(`SELECT id, created_at AS at FROM outbox WHERE status = 'delivered' AND (created_at, id) > (@at, @id)
      AND created_at < @before AND delivered_at < @before ORDER BY created_at, id LIMIT @limit`)
    this.deleteEvent = db.prepare('DELETE FROM outbox WHERE id = ?')
    // Cleaned by the sweeper (cleaned_at set): never a leftover it has yet to clean (listLeftovers).
    this.uploadsDue = db.prepare(`SELECT id, updated_at AS at FROM uploads WHERE status NOT IN ('pending', 'confirmed') AND (updated_at, id) > (@at, @id)
      AND updated_at < @before AND cleaned_at IS NOT NULL ORDER BY updated_at, id LIMIT @limit`)
    // One with an event left stays: the outbox refers to its upload.
    this.deleteUpload = db.prepare('DELETE FROM uploads WHERE id = ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.upload_id = uploads.id)')
    // A dead image.confirmed of an upload still confirmed stays (RecordStore.pruneEvents). Dead events are few.
    this.dead = db.prepare(`DELETE FROM outbox WHERE id IN (SELECT o.id FROM outbox o WHERE o.status = 'dead' AND o.next_attempt_at < @before
      AND NOT (o.type = 'image.confirmed' AND EXISTS (SELECT 1 FROM uploads u WHERE u.id = o.upload_id AND u.status = 'confirmed')) LIMIT @limit)`)
    this.remove = db.transaction((statement: Database.Statement<[string]>, due: Due[]) => due.reduce((n, r) => n + statement.run(r.id).changes, 0))
  }

  /** Three rows, however many events there are. */
  counts (): Record<EventStatus, number> {
    const counts: Record<EventStatus, number> = { pending: 0, delivered: 0, dead: 0 }
    for (const { status, n } of this.count.all()) counts[status] = n
    return counts
  }

  /** Delivered events first, then dead ones, `limit` in all. */
  events (before: number, limit: number, after?: PruneCursor): PruneBatch {
    const due = this.deliveredDue.all(window(before, limit, after))
    const delivered = batch(due, this.remove(this.deleteEvent, due), limit, after)
    if (!delivered.done) return delivered
    const dead = this.dead.run({ before, limit: limit - due.length }).changes
    return { ...delivered, removed: delivered.removed + dead, done: due.length + dead < limit }
  }

  finishedUploads (before: number, limit: number, after?: PruneCursor): PruneBatch {
    const due = this.uploadsDue.all(window(before, limit, after))
    return batch(due, this.remove(this.deleteUpload, due), limit, after)
  }
}
