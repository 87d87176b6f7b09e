// What keeps the PostgreSQL store cheap as it grows: the outbox counts, a ledger kept by triggers (migration 6), and
// retention (RecordStore.pruneEvents, pruneUploads): one DELETE of at most `limit` rows per call, found in order
// through its own index. Rows are locked without waiting (SKIP LOCKED): another replica's pruner, or a dispatcher
// updating the row, goes first, and the row waits for a later batch or pass.
import type pg from 'pg'
import type { EventStatus, PruneBatch } from './record-store.js'

/**
 * The ledger's rows (one per statement that changed a status) folded into one per status, then summed. Folding
 * deletes what this transaction saw and inserts its sum: a replica folding at the same time removes only rows this
 * one did not, so the sum stays whole.
 */
export async function countEvents (pool: pg.Pool): Promise<Record<EventStatus, number>> {
  await pool.query('WITH folded AS (DELETE FROM outbox_counts RETURNING status, n) INSERT INTO outbox_counts (status, n) SELECT status, sum(n) FROM folded GROUP BY status')
  const counts: Record<EventStatus, number> = { pending: 0, delivered: 0, dead: 0 }
  const { rows } = await pool.query<{ status: EventStatus, n: number }>('SELECT status, sum(n)::int AS n FROM outbox_counts GROUP BY status')
  for (const { status, n } of rows) counts[status] = n
  return counts
}

/** Delivered events first, then dead ones, `limit` in all. */
export async function pruneEvents (pool: pg.Pool, before: Date, limit: number, from?: Date): Promise<PruneBatch> {
  // Delivered after it was created: the index's range on created_at holds every event delivered before the cut-off.
  const delivered = await prune(pool, 'outbox', `SELECT id FROM outbox WHERE status = 'delivered' AND created_at >= $3 AND created_at < $1 AND delivered_at < $1
    ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED`, 'created_at', before, limit, from)
  if (delivered.removed >= limit) return delivered
  // A dead image.confirmed of an upload still confirmed stays (RecordStore.pruneEvents). Dead events are few.
  const { rowCount } = await pool.query(`DELETE FROM outbox WHERE id IN (SELECT o.id FROM outbox o WHERE o.status = 'dead' AND o.next_attempt_at < $1
    AND NOT (o.type = 'image.confirmed' AND EXISTS (SELECT 1 FROM uploads u WHERE u.id = o.upload_id AND u.status = 'confirmed'))
    LIMIT $2 FOR UPDATE OF o SKIP LOCKED)`, [before, limit - delivered.removed])
  return { ...delivered, removed: delivered.removed + (rowCount ?? 0) }
}

/**
 * Expired, or changed after the ticket expired: not a leftover the sweeper has yet to clean (listLeftovers). No
 * event left: the outbox refers to its upload (and no event is ever written for an upload that ended).
 */
export async function pruneUploads (pool: pg.Pool, before: Date, limit: number, from?: Date): Promise<PruneBatch> {
  return await prune(pool, 'uploads', `SELECT u.id FROM uploads u WHERE u.status NOT IN ('pending', 'confirmed') AND u.updated_at >= $3 AND u.updated_at < $1
    AND (u.status = 'expired' OR u.updated_at >= u.expires_at) AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.upload_id = u.id)
    ORDER BY u.updated_at LIMIT $2 FOR UPDATE OF u SKIP LOCKED`, 'updated_at', before, limit, from)
}

/** Deletes the rows `select` lists (from $3 on, oldest first); the batch resumes at the last one's `column`. */
async function prune (pool: pg.Pool, table: 'outbox' | 'uploads', select: string, column: 'created_at' | 'updated_at', before: Date, limit: number, from?: Date): Promise<PruneBatch> {
  const { rows } = await pool.query<{ at: Date }>(`DELETE FROM ${table} WHERE id IN (${select}) RETURNING ${column} AS at`, [before, limit, from ?? '-infinity'])
  const last = rows.reduce<Date | undefined>((max, r) => (max === undefined || r.at > max ? r.at : max), from)
  return { removed: rows.length, ...(last === undefined ? {} : { resume: last }) }
}
