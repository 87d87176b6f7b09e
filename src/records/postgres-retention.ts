// What keeps the PostgreSQL store cheap as it grows: the outbox counts, read from indexes (migration 6), and
// retention (RecordStore.pruneEvents, pruneUploads): one DELETE of at most `limit` rows per call, each found through
// its own index. Rows are locked without waiting (SKIP LOCKED): another replica's pruner, or a dispatcher updating
// the row, goes first, and the row waits for the next batch or pass.
import type pg from 'pg'
import type { EventStatus } from './record-store.js'

/**
 * Each status counted on its own index, scanned only: pending and dead are a few rows, delivered ones are bounded
 * by RETENTION_DAYS. (Counts kept by triggers, as SQLite has, would make every outbox write of every replica wait
 * on one row.)
 */
export async function countEvents (pool: pg.Pool): Promise<Record<EventStatus, number>> {
  const { rows: [n] } = await pool.query<Record<EventStatus, number>>(`SELECT
    (SELECT count(*) FROM outbox WHERE status = 'pending')::int AS pending,
    (SELECT count(*) FROM outbox WHERE status = 'delivered')::int AS delivered,
    (SELECT count(*) FROM outbox WHERE status = 'dead')::int AS dead`)
  return n ?? { pending: 0, delivered: 0, dead: 0 }
}

/** Delivered events first, then dead ones, `limit` in all. */
export async function pruneEvents (pool: pg.Pool, before: Date, limit: number): Promise<number> {
  // Delivered after it was created: the index's range on created_at holds every event delivered before the cut-off.
  const delivered = await prune(pool, 'outbox', 'SELECT id FROM outbox WHERE status = \'delivered\' AND created_at < $1 AND delivered_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED', before, limit)
  if (delivered >= limit) return delivered
  // A dead image.confirmed of an upload still confirmed stays (RecordStore.pruneEvents).
  return delivered + await prune(pool, 'outbox', `SELECT o.id FROM outbox o WHERE o.status = 'dead' AND o.next_attempt_at < $1
    AND NOT (o.type = 'image.confirmed' AND EXISTS (SELECT 1 FROM uploads u WHERE u.id = o.upload_id AND u.status = 'confirmed'))
    LIMIT $2 FOR UPDATE OF o SKIP LOCKED`, before, limit - delivered)
}

/**
 * Expired, or changed after the ticket expired: not a leftover the sweeper has yet to clean (listLeftovers). No event left: the outbox
 * refers to its upload (and no event is ever written for an upload that ended).
 */
export async function pruneUploads (pool: pg.Pool, before: Date, limit: number): Promise<number> {
  return await prune(pool, 'uploads', `SELECT u.id FROM uploads u WHERE u.status NOT IN ('pending', 'confirmed') AND u.updated_at < $1
    AND (u.status = 'expired' OR u.updated_at >= u.expires_at) AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.upload_id = u.id)
    LIMIT $2 FOR UPDATE OF u SKIP LOCKED`, before, limit)
}

async function prune (pool: pg.Pool, table: 'outbox' | 'uploads', select: string, before: Date, limit: number): Promise<number> {
  const { rowCount } = await pool.query(`DELETE FROM ${table} WHERE id IN (${select})`, [before, limit])
  return rowCount ?? 0
}
