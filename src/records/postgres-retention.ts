// What keeps the PostgreSQL store cheap as it grows: the outbox counts, a ledger kept by triggers (migration 6), and
// retention (RecordStore.pruneEvents, pruneUploads): at most `limit` rows per call, found in order through their own
// index, then deleted by one statement. Listing the rows due first bounds each batch's work whatever the planner
// makes of the tables' statistics (a join of the whole outbox against a million uploads, seen after a large removal).
import type pg from 'pg'
import type { EventStatus, PruneBatch, PruneCursor } from './record-store.js'

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
export async function pruneEvents (pool: pg.Pool, before: Date, limit: number, after?: PruneCursor): Promise<PruneBatch> {
  // Delivered after it was created: the index's range on created_at holds every event delivered before the cut-off.
  const { looked, ...delivered } = await prune(pool, `SELECT id, created_at AS at FROM outbox WHERE status = 'delivered' AND (created_at, id) > ($3, $4) AND created_at < $1
    AND delivered_at < $1 ORDER BY created_at, id LIMIT $2`, 'DELETE FROM outbox o USING due WHERE o.id = due.id', before, limit, after)
  if (!delivered.done) return delivered
  // A dead image.confirmed of an upload still confirmed stays (RecordStore.pruneEvents). Dead events are few.
  const { rowCount } = await pool.query(`DELETE FROM outbox WHERE id IN (SELECT o.id FROM outbox o WHERE o.status = 'dead' AND o.next_attempt_at < $1
    AND NOT (o.type = 'image.confirmed' AND EXISTS (SELECT 1 FROM uploads u WHERE u.id = o.upload_id AND u.status = 'confirmed')) LIMIT $2)`,
  [before, limit - looked])
  const dead = rowCount ?? 0
  return { ...delivered, removed: delivered.removed + dead, done: looked + dead < limit }
}

/** Cleaned by the sweeper (cleaned_at set): never a leftover it has yet to clean (listLeftovers). */
export async function pruneUploads (pool: pg.Pool, before: Date, limit: number, after?: PruneCursor): Promise<PruneBatch> {
  const { looked, ...batch } = await prune(pool, `SELECT id, updated_at AS at FROM uploads WHERE status NOT IN ('pending', 'confirmed') AND (updated_at, id) > ($3, $4)
    AND updated_at < $1 AND cleaned_at IS NOT NULL ORDER BY updated_at, id LIMIT $2`,
  // One with an event left stays: the outbox refers to its upload (and no event is written for an upload that ended).
  'DELETE FROM uploads u USING due WHERE u.id = due.id AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.upload_id = u.id)', before, limit, after)
  return batch
}

/**
 * Lists the rows due (`due`: id, at), deletes them with `remove` (`… USING due …`), and says where the batch ended.
 * Two replicas may list the same rows: the second waits for the first's delete, then finds them gone.
 */
async function prune (pool: pg.Pool, due: string, remove: string, before: Date, limit: number, after?: PruneCursor): Promise<PruneBatch & { looked: number }> {
  const { rows: [r] } = await pool.query<{ looked: number, removed: number, at: Date | null, id: string | null }>(
    `WITH due AS MATERIALIZED (${due}), removed AS (${remove} RETURNING 1)
     SELECT (SELECT count(*) FROM due)::int AS looked, (SELECT count(*) FROM removed)::int AS removed, last.at, last.id
     FROM (SELECT NULL) one LEFT JOIN (SELECT at, id FROM due ORDER BY at DESC, id DESC LIMIT 1) last ON true`,
    [before, limit, after?.at ?? '-infinity', after?.id ?? ''])
  const looked = r?.looked ?? 0
  const resume = r?.at != null && r.id != null ? { at: r.at, id: r.id } : after
  return { removed: r?.removed ?? 0, ...(resume === undefined ? {} : { resume }), done: looked < limit, looked }
}
