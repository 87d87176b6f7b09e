// The shared store for several replicas: PostgreSQL through a `pg` pool. Same semantics as sqlite.ts.
// - Migrations run on open under an advisory lock, so replicas starting together apply each version once.
// - The outbox is claimed with FOR UPDATE SKIP LOCKED and a lease: replicas never take the same event while its
//   lease runs, and the events of a replica that died are taken again once their lease lapses.
// - Ticket inserts are group-committed: the inserts queued within one turn of the event loop go out as one
//   multi-row INSERT (one commit), and each caller's promise resolves only after that commit.
// - Delivery bookkeeping (claims, delivered and failed marks, releases) goes through a second, small pool whose
//   sessions commit without waiting for the WAL flush (synchronous_commit = off): at-least-once delivery absorbs
//   its loss in a server crash (a lost lease lapses, a lost mark means one more attempt). Everything else waits.
// The schema is the first one of the connection's search_path: pick another with the libpq `options` parameter,
// e.g. postgres://host/db?options=-c%20search_path%3Dimages (the schema must exist).
import pg from 'pg'
import { TickBatch, type Pending } from './tick-batch.js'
import type { Config } from '../config.js'
import { migrate } from './migrations/postgres.js'
import { countEvents, pruneEvents, pruneUploads } from './postgres-retention.js'
import { eventMapping, insertColumnList, INSERT_COLUMNS, uploadMapping, type Codec } from './columns.js'
import type { ConfirmResult, DeleteResult, EventStatus, NewEvent, NewUpload, PageCursor, PruneCursor, PublishedImage, RecordStore, UploadRecord, UploadStatus } from './record-store.js'

type UploadRow = Record<string, unknown>
type EventRow = Record<string, unknown>

// bigint columns arrive as strings.
const codec: Codec = { time: { read: (v) => v as Date, write: (d) => d }, integer: (v) => Number(v) }
const { toUpload, insertValues } = uploadMapping(codec)
const toEvent = eventMapping(codec)

/** Where pool errors (a connection dropped while idle) are reported; they never crash the process. */
export interface StoreLog { warn: (obj: object, msg: string) => void }

const PING_TIMEOUT_MS = 2000
const IDLE_TIMEOUT_MS = 30_000
/** The dispatcher claims and marks from one loop (a few deliveries in flight): two connections are plenty. */
const BOOKKEEPING_POOL_MAX = 2
/** PostgreSQL allows 65535 parameters per statement. */
const MAX_BATCH = Math.floor(65535 / INSERT_COLUMNS.length)

/** Opens the pool and brings the schema up to date; rejects with an actionable message when that fails. */
export async function openPostgresStore (database: Config['database'], log?: StoreLog): Promise<PostgresStore> {
  if (database.url === undefined) throw new Error('DATABASE_URL is not set')
  const url = database.url
  const open = (max: number, extra: Pick<pg.PoolConfig, 'onConnect'> = {}) => {
    const pool = new pg.Pool({ ...poolConfig(database, url, max), ...extra })
    pool.on('error', (err) => log?.warn({ err }, 'PostgreSQL connection lost; the pool reconnects on demand'))
    return pool
  }
  const pool = open(database.poolMax)
  try {
    await migrate(pool)
  } catch (err) {
    await pool.end()
    throw new Error(`PostgreSQL (DATABASE_URL): ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  // A session setting made before the pool hands the connection out (not a URL option: the URL's own `options`,
  // search_path included, stay as they are).
  // pg-pool awaits the promise (its types say void).
  const bookkeeping = open(BOOKKEEPING_POOL_MAX, { onConnect: async (client: pg.ClientBase) => { await client.query('SET synchronous_commit = off') } })
  return new PostgresStore(pool, bookkeeping)
}

function poolConfig (database: Config['database'], url: string, max: number): pg.PoolConfig {
  return {
    connectionString: url,
    max,
    connectionTimeoutMillis: database.connectTimeoutMs,
    idleTimeoutMillis: IDLE_TIMEOUT_MS,
    // Server side: no statement runs longer, and no transaction holds row locks while idle.
    statement_timeout: database.statementTimeoutMs,
    idle_in_transaction_session_timeout: database.statementTimeoutMs,
    // Client side: a connection that stops answering (network partition) fails the query and is discarded.
    query_timeout: database.statementTimeoutMs + database.connectTimeoutMs,
    application_name: 'image-service',
    keepAlive: true
  }
}

export class PostgresStore implements RecordStore {
  readonly kind = 'postgres' as const
  private readonly inserts = new TickBatch<NewUpload>((batch) => {
    for (let i = 0; i < batch.length; i += MAX_BATCH) {
      // insertBatch settles every caller's promise itself and never rejects.
      const done: Promise<void> = this.insertBatch(batch.slice(i, i + MAX_BATCH)).then(() => { this.inFlight.delete(done) })
      this.inFlight.add(done)
    }
  })

  private readonly inFlight = new Set<Promise<void>>()

  constructor (private readonly pool: pg.Pool, private readonly bookkeeping: pg.Pool) {}

  createUpload (upload: NewUpload): Promise<void> {
    return this.inserts.add(upload)
  }

  private async insertBatch (batch: Array<Pending<NewUpload>>): Promise<void> {
    try {
      await this.insertUploads(batch.map((p) => p.item))
      for (const p of batch) p.resolve()
    } catch (err) {
      // One bad row (a duplicate key) must not fail the others: retry each on its own. Any other error
      // (the database is down) fails the whole batch at once.
      if (batch.length === 1 || !isDataError(err)) {
        for (const p of batch) p.reject(err)
        return
      }
      await Promise.all(batch.map((p) => this.insertUploads([p.item]).then(p.resolve, p.reject)))
    }
  }

  private async insertUploads (uploads: NewUpload[]): Promise<void> {
    const values: unknown[] = []
    const width = INSERT_COLUMNS.length
    const rows = uploads.map((u, r) => {
      insertValues(u, values)
      return `(${INSERT_COLUMNS.map((_, c) => `$${r * width + c + 1}`).join(', ')})`
    })
    await this.pool.query(`INSERT INTO uploads (${insertColumnList}) VALUES ${rows.join(', ')}`, values)
  }

  async getUpload (id: string) {
    const { rows } = await this.pool.query<UploadRow>('SELECT * FROM uploads WHERE id = $1', [id])
    return rows[0] === undefined ? undefined : toUpload(rows[0])
  }

  async confirmUpload (id: string, size: number, confirmedAt: Date, event: (record: UploadRecord) => NewEvent, image?: PublishedImage): Promise<ConfirmResult | undefined> {
    return await this.transaction(async (client) => {
      // A concurrent confirmation waits on the row lock, then finds it no longer pending: one event only.
      const updated = await client.query<UploadRow>(
        'UPDATE uploads SET status = \'confirmed\', size = $1, confirmed_at = $2, updated_at = $2, image = $4, cleaned_at = NULL WHERE id = $3 AND status = \'pending\' RETURNING *',
        [size, confirmedAt, id, image === undefined ? null : JSON.stringify(image)])
      if (updated.rows[0] === undefined) {
        const { rows } = await client.query<UploadRow>('SELECT * FROM uploads WHERE id = $1', [id])
        return rows[0] === undefined ? undefined : { record: toUpload(rows[0]), changed: false }
      }
      const record = toUpload(updated.rows[0])
      const e = event(record)
      await client.query(
        'INSERT INTO outbox (id, upload_id, type, payload, status, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, \'pending\', 0, $5, $5)',
        [e.id, e.uploadId, e.type, e.payload, e.createdAt])
      return { record, changed: true }
    })
  }

  async planImage (id: string, image: PublishedImage) {
    const { rowCount } = await this.pool.query('UPDATE uploads SET image = $1 WHERE id = $2 AND status = \'pending\'', [JSON.stringify(image), id])
    return rowCount === 1
  }

  async transition (id: string, from: readonly UploadStatus[], to: UploadStatus, at: Date) {
    const { rows } = await this.pool.query<UploadRow>(
      // The SET reads the old status: the same status again is the sweeper's touch (record-store.ts).
      'UPDATE uploads SET cleaned_at = CASE WHEN status = $1 THEN $2::timestamptz END, status = $1, updated_at = $2 WHERE id = $3 AND status = ANY($4::text[]) RETURNING *', [to, at, id, from])
    return rows[0] === undefined ? undefined : toUpload(rows[0])
  }

  async listExpiredPending (before: Date, limit: number, after?: PageCursor) {
    const { rows } = await this.pool.query<UploadRow>(
      'SELECT * FROM uploads WHERE status = \'pending\' AND expires_at < $1 AND (expires_at, id) > ($3, $4) ORDER BY expires_at, id LIMIT $2',
      [before, limit, after?.expiresAt ?? '-infinity', after?.id ?? ''])
    return rows.map(toUpload)
  }

  async listReplaceable (ownerId: string, newer: UploadRecord) {
    const { rows } = await this.pool.query<UploadRow>(
      // Strictly older tickets: (created_at, id) orders two tickets of the same millisecond one way only.
      'SELECT * FROM uploads WHERE owner_id = $1 AND status = \'confirmed\' AND (created_at, id) < ($3, $2) ORDER BY created_at, id',
      [ownerId, newer.id, newer.createdAt])
    return rows.map(toUpload)
  }

  async supersededBy (ownerId: string, older: UploadRecord) {
    const { rows } = await this.pool.query<UploadRow>(
      `SELECT * FROM uploads u WHERE owner_id = $1 AND status = 'confirmed' AND (created_at, id) > ($3, $2)
        AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.upload_id = u.id AND o.type = 'image.confirmed' AND o.status <> 'delivered')
        ORDER BY created_at DESC, id DESC LIMIT 1`,
      [ownerId, older.id, older.createdAt])
    return rows[0] === undefined ? undefined : toUpload(rows[0])
  }

  async deleteUpload (id: string, at: Date, event: (record: UploadRecord) => NewEvent): Promise<DeleteResult | undefined> {
    return await this.transaction(async (client) => {
      // The row lock orders this against a confirmation in flight: it commits first (and its event is removed
      // here), or finds the upload deleted.
      const { rows: [before] } = await client.query<UploadRow>('SELECT status FROM uploads WHERE id = $1 FOR UPDATE', [id])
      if (before === undefined || before.status === 'deleted') return undefined
      const { rows: [row] } = await client.query<UploadRow>('UPDATE uploads SET status = \'deleted\', updated_at = $1, cleaned_at = NULL WHERE id = $2 RETURNING *', [at, id])
      const record = toUpload(row as UploadRow)
      const was = before.status as UploadStatus
      if (was !== 'confirmed') return { record, was }
      await client.query('DELETE FROM outbox WHERE upload_id = $1 AND type = \'image.confirmed\' AND status <> \'delivered\'', [id])
      const e = event(record)
      await client.query(
        'INSERT INTO outbox (id, upload_id, type, payload, status, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, \'pending\', 0, $5, $5)',
        [e.id, e.uploadId, e.type, e.payload, e.createdAt])
      return { record, was }
    })
  }

  async listLeftovers (before: Date, limit: number, after?: PageCursor) {
    const { rows } = await this.pool.query<UploadRow>(
      'SELECT * FROM uploads WHERE cleaned_at IS NULL AND status <> \'pending\' AND expires_at < $1 AND (expires_at, id) > ($3, $4) ORDER BY expires_at, id LIMIT $2',
      [before, limit, after?.expiresAt ?? '-infinity', after?.id ?? ''])
    return rows.map(toUpload)
  }

  async claimEvents (now: Date, limit: number, leaseMs: number) {
    // SKIP LOCKED: a replica claiming at the same moment takes other rows instead of waiting; a row another
    // replica just leased is re-checked against its new lease_until and skipped.
    const { rows } = await this.bookkeeping.query<EventRow>(`
      WITH due AS (
        SELECT id FROM outbox
        WHERE status = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
        ORDER BY next_attempt_at LIMIT $2
        FOR UPDATE SKIP LOCKED
      )
      UPDATE outbox SET lease_until = $3 FROM due WHERE outbox.id = due.id RETURNING outbox.*`,
    [now, limit, new Date(now.getTime() + leaseMs)])
    return rows.map(toEvent).sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime())
  }

  async renewLease (id: string, held: Date, until: Date) {
    const { rowCount } = await this.bookkeeping.query(
      'UPDATE outbox SET lease_until = $1 WHERE id = $2 AND status = \'pending\' AND lease_until = $3', [until, id, held])
    return rowCount === 1
  }

  async markDelivered (id: string, at: Date) { await this.bookkeeping.query('UPDATE outbox SET status = \'delivered\', delivered_at = $1, lease_until = NULL, attempts = attempts + 1 WHERE id = $2', [at, id]) }
  async markFailed (id: string, error: string, nextAttemptAt: Date, dead: boolean) {
    await this.bookkeeping.query('UPDATE outbox SET status = $1, attempts = attempts + 1, next_attempt_at = $2, last_error = $3, lease_until = NULL WHERE id = $4 AND status = \'pending\'',
      [dead ? 'dead' : 'pending', nextAttemptAt, error.slice(0, 500), id])
  }

  async releaseEvent (id: string) { await this.bookkeeping.query('UPDATE outbox SET lease_until = NULL WHERE id = $1 AND status = \'pending\'', [id]) }

  async getEvent (id: string) {
    const { rows } = await this.pool.query<EventRow>('SELECT * FROM outbox WHERE id = $1', [id])
    return rows[0] === undefined ? undefined : toEvent(rows[0])
  }

  async listEvents (status: EventStatus, limit: number) {
    const { rows } = await this.pool.query<EventRow>('SELECT * FROM outbox WHERE status = $1 ORDER BY created_at, id LIMIT $2', [status, limit])
    return rows.map(toEvent)
  }

  async redriveEvent (id: string, now: Date) {
    const { rowCount } = await this.pool.query(
      'UPDATE outbox SET status = \'pending\', attempts = 0, next_attempt_at = $1, lease_until = NULL WHERE id = $2 AND status = \'dead\'', [now, id])
    return rowCount === 1
  }

  // Growth (postgres-retention.ts): counts kept by triggers, pruning a batch per statement.
  async countEvents () { return await countEvents(this.pool) }
  async pruneEvents (before: Date, limit: number, after?: PruneCursor) { return await pruneEvents(this.pool, before, limit, after) }
  async pruneUploads (before: Date, limit: number, after?: PruneCursor) { return await pruneUploads(this.pool, before, limit, after) }

  async ping () {
    // query_timeout per query is honoured by pg but missing from its types.
    await this.pool.query({ text: 'SELECT 1', query_timeout: PING_TIMEOUT_MS } as pg.QueryConfig)
  }

  /** A standby (after a failover the URL may lead to one) or a read-only default refuses every write. */
  async checkWrites () {
    const { rows: [row] } = await this.pool.query<{ readOnly: boolean }>({ text: 'SELECT pg_is_in_recovery() OR current_setting(\'transaction_read_only\') = \'on\' AS "readOnly"', query_timeout: PING_TIMEOUT_MS } as pg.QueryConfig)
    if (row?.readOnly !== false) throw new Error('PostgreSQL is read-only (a standby, or default_transaction_read_only)')
  }

  async close () {
    this.inserts.flushNow()
    await Promise.allSettled([...this.inFlight])
    await Promise.all([this.pool.end(), this.bookkeeping.end()])
  }

  private async transaction<T> (fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    // A checked-out connection that drops emits 'error': without a listener that would crash the process.
    const onError = () => {}
    client.on('error', onError)
    const release = (err?: Error) => { client.off('error', onError); client.release(err) }
    try {
      await client.query('BEGIN')
      const result = await fn(client)
      await client.query('COMMIT')
      release()
      return result
    } catch (err) {
      // A failed ROLLBACK means the connection itself is broken: it is discarded, not returned to the pool.
      await client.query('ROLLBACK').then(() => release(), (e: Error) => release(e))
      throw err
    }
  }
}

/** Integrity (23…) and data (22…) errors belong to one row; anything else is about the connection or server. */
function isDataError (err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && /^2[23]/.test(code)
}
