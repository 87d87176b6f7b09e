// The embedded store: one SQLite file under DATA_DIR (better-sqlite3, synchronous and fast).
// Ticket inserts are group-committed: the inserts queued within one turn of the event loop share one
// transaction (one fsync), and each caller's promise resolves only after that commit.
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { sqliteMigrations } from './migrations/sqlite.js'
import { TickBatch, type Pending } from './tick-batch.js'
import type { ConfirmResult, EventStatus, NewEvent, NewUpload, OutboxEvent, PageCursor, Store, UploadRecord, UploadStatus } from './store.js'

interface UploadRow {
  id: string,
  owner_id: string,
  key: string,
  content_type: string,
  status: UploadStatus,
  max_bytes: number
  declared_size: number | null,
  size: number | null,
  created_at: number,
  expires_at: number
  confirmed_at: number | null,
  updated_at: number
}
interface EventRow {
  id: string,
  upload_id: string,
  type: string,
  payload: string,
  status: EventStatus,
  attempts: number
  next_attempt_at: number,
  lease_until: number | null,
  last_error: string | null,
  created_at: number,
  delivered_at: number | null
}

// No cursor: from before the first record ('' sorts before every id).
const page = (before: Date, limit: number, after?: PageCursor) =>
  ({ before: before.getTime(), limit, at: after?.expiresAt.getTime() ?? Number.MIN_SAFE_INTEGER, id: after?.id ?? '' })
const date = (ms: number | null) => (ms === null ? null : new Date(ms))
const toUpload = (r: UploadRow): UploadRecord => ({
  id: r.id,
  ownerId: r.owner_id,
  key: r.key,
  contentType: r.content_type,
  status: r.status,
  maxBytes: r.max_bytes,
  declaredSize: r.declared_size,
  size: r.size,
  createdAt: new Date(r.created_at),
  expiresAt: new Date(r.expires_at),
  confirmedAt: date(r.confirmed_at),
  updatedAt: new Date(r.updated_at)
})
const toEvent = (r: EventRow): OutboxEvent => ({
  id: r.id,
  uploadId: r.upload_id,
  type: r.type,
  payload: r.payload,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: new Date(r.next_attempt_at),
  leaseUntil: date(r.lease_until),
  lastError: r.last_error,
  createdAt: new Date(r.created_at),
  deliveredAt: date(r.delivered_at)
})

export function openSqliteStore (dataDir: string, file = 'image-service.sqlite'): SqliteStore {
  mkdirSync(dataDir, { recursive: true })
  return new SqliteStore(new Database(join(dataDir, file)))
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const
  private readonly db: Database.Database
  private readonly inserts = new TickBatch<NewUpload>((batch) => { this.insertBatch(batch) })
  private readonly stmt

  constructor (db: Database.Database) {
    this.db = db
    db.pragma('journal_mode = WAL')
    // FULL: a committed ticket survives power loss, not only a crash; group commit pays for the fsync.
    db.pragma('synchronous = FULL')
    // Checkpoint every ~40 MB of WAL instead of ~4 MB: a page rewritten by many commits is copied back once.
    db.pragma('wal_autocheckpoint = 10000')
    db.pragma('busy_timeout = 5000')
    db.pragma('foreign_keys = ON')
    migrate(db)
    this.stmt = {
      // Positional parameters: binding by name looks each one up in an object built per row.
      insertUpload: db.prepare<[string, string, string, string, number, number | null, number, number, number]>(`INSERT INTO uploads (id, owner_id, key, content_type, status, max_bytes, declared_size, created_at, expires_at, updated_at)
        VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`),
      getUpload: db.prepare<[string], UploadRow>('SELECT * FROM uploads WHERE id = ?'),
      confirm: db.prepare('UPDATE uploads SET status = \'confirmed\', size = ?, confirmed_at = ?, updated_at = ? WHERE id = ? AND status = \'pending\''),
      insertEvent: db.prepare(`INSERT INTO outbox (id, upload_id, type, payload, status, attempts, next_attempt_at, created_at)
        VALUES (@id, @uploadId, @type, @payload, 'pending', 0, @createdAt, @createdAt)`),
      // Pages in (expires_at, id) order after a cursor: records a pass could not settle do not hide the ones after.
      expiredPending: db.prepare<{ before: number, at: number, id: string, limit: number }, UploadRow>('SELECT * FROM uploads WHERE status = \'pending\' AND expires_at < @before AND (expires_at > @at OR (expires_at = @at AND id > @id)) ORDER BY expires_at, id LIMIT @limit'),
      // Strictly older: (confirmed_at, id) orders two confirmations of the same millisecond one way only.
      replaceable: db.prepare<{ owner: string, id: string, at: number }, UploadRow>('SELECT * FROM uploads WHERE owner_id = @owner AND status = \'confirmed\' AND (confirmed_at < @at OR (confirmed_at = @at AND id < @id)) ORDER BY confirmed_at, id'),
      leftovers: db.prepare<{ before: number, at: number, id: string, limit: number }, UploadRow>('SELECT * FROM uploads WHERE status IN (\'confirmed\', \'rejected\', \'deleted\', \'replaced\') AND updated_at < expires_at AND expires_at < @before AND (expires_at > @at OR (expires_at = @at AND id > @id)) ORDER BY expires_at, id LIMIT @limit'),
      due: db.prepare<[number, number, number], EventRow>('SELECT * FROM outbox WHERE status = \'pending\' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at LIMIT ?'),
      lease: db.prepare('UPDATE outbox SET lease_until = ? WHERE id = ?'),
      delivered: db.prepare('UPDATE outbox SET status = \'delivered\', delivered_at = ?, lease_until = NULL, attempts = attempts + 1 WHERE id = ?'),
      failed: db.prepare('UPDATE outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, lease_until = NULL WHERE id = ? AND status = \'pending\''),
      release: db.prepare('UPDATE outbox SET lease_until = NULL WHERE id = ? AND status = \'pending\''),
      getEvent: db.prepare<[string], EventRow>('SELECT * FROM outbox WHERE id = ?'),
      listEvents: db.prepare<[string, number], EventRow>('SELECT * FROM outbox WHERE status = ? ORDER BY created_at LIMIT ?'),
      redrive: db.prepare('UPDATE outbox SET status = \'pending\', attempts = 0, next_attempt_at = ?, lease_until = NULL WHERE id = ? AND status = \'dead\''),
      count: db.prepare<[], { status: EventStatus, n: number }>('SELECT status, count(*) AS n FROM outbox GROUP BY status')
    }
  }

  createUpload (upload: NewUpload): Promise<void> {
    return this.inserts.add(upload)
  }

  private insertBatch (batch: Array<Pending<NewUpload>>): void {
    const insert = (u: NewUpload) => {
      const at = u.createdAt.getTime()
      this.stmt.insertUpload.run(u.id, u.ownerId, u.key, u.contentType, u.maxBytes, u.declaredSize, at, u.expiresAt.getTime(), at)
    }
    try {
      this.db.transaction(() => { for (const { item } of batch) insert(item) })()
      for (const p of batch) p.resolve()
    } catch {
      // One bad row must not fail the others: retry each on its own.
      for (const p of batch) {
        try {
          insert(p.item)
          p.resolve()
        } catch (err) { p.reject(err) }
      }
    }
  }

  async getUpload (id: string) {
    const row = this.stmt.getUpload.get(id)
    return row === undefined ? undefined : toUpload(row)
  }

  async confirmUpload (id: string, size: number, confirmedAt: Date, event: (record: UploadRecord) => NewEvent): Promise<ConfirmResult | undefined> {
    return this.db.transaction((): ConfirmResult | undefined => {
      const at = confirmedAt.getTime()
      const changed = this.stmt.confirm.run(size, at, at, id).changes === 1
      const row = this.stmt.getUpload.get(id)
      if (row === undefined) return undefined
      const record = toUpload(row)
      if (changed) {
        const e = event(record)
        this.stmt.insertEvent.run({ ...e, createdAt: e.createdAt.getTime() })
      }
      return { record, changed }
    }).immediate()
  }

  async transition (id: string, from: readonly UploadStatus[], to: UploadStatus, at: Date) {
    const marks = from.map(() => '?').join(',')
    const changes = this.db.prepare(`UPDATE uploads SET status = ?, updated_at = ? WHERE id = ? AND status IN (${marks})`)
      .run(to, at.getTime(), id, ...from).changes
    return changes === 1 ? await this.getUpload(id) : undefined
  }

  async listExpiredPending (before: Date, limit: number, after?: PageCursor) {
    return this.stmt.expiredPending.all(page(before, limit, after)).map(toUpload)
  }

  async listReplaceable (ownerId: string, newer: UploadRecord) {
    return this.stmt.replaceable.all({ owner: ownerId, id: newer.id, at: (newer.confirmedAt ?? newer.updatedAt).getTime() }).map(toUpload)
  }

  async listLeftovers (before: Date, limit: number, after?: PageCursor) {
    return this.stmt.leftovers.all(page(before, limit, after)).map(toUpload)
  }

  /**
   * Runs `fn` without waiting for the disk at commit (synchronous = NORMAL, for this connection, until it returns).
   * Only for writes whose loss on power failure at-least-once delivery absorbs: a lost lease lapses, a lost delivered
   * or failed mark means one more attempt. A later durable commit syncs them too (the WAL is written in order).
   */
  private relaxed<T> (fn: () => T): T {
    // (Not a prepared statement: SQLite applies this pragma when it compiles it.)
    this.db.pragma('synchronous = NORMAL')
    try { return fn() } finally { this.db.pragma('synchronous = FULL') }
  }

  async claimEvents (now: Date, limit: number, leaseMs: number) {
    return this.relaxed(() => this.db.transaction(() => {
      const rows = this.stmt.due.all(now.getTime(), now.getTime(), limit)
      const until = now.getTime() + leaseMs
      for (const r of rows) { this.stmt.lease.run(until, r.id); r.lease_until = until }
      return rows.map(toEvent)
    }).immediate())
  }

  async markDelivered (id: string, at: Date) { this.relaxed(() => this.stmt.delivered.run(at.getTime(), id)) }

  async markFailed (id: string, error: string, nextAttemptAt: Date, dead: boolean) {
    this.relaxed(() => this.stmt.failed.run(dead ? 'dead' : 'pending', nextAttemptAt.getTime(), error.slice(0, 500), id))
  }

  async releaseEvent (id: string) { this.relaxed(() => this.stmt.release.run(id)) }

  async getEvent (id: string) {
    const row = this.stmt.getEvent.get(id)
    return row === undefined ? undefined : toEvent(row)
  }

  async listEvents (status: EventStatus, limit: number) { return this.stmt.listEvents.all(status, limit).map(toEvent) }

  async redriveEvent (id: string, now: Date) { return this.stmt.redrive.run(now.getTime(), id).changes === 1 }

  async countEvents () {
    const counts: Record<EventStatus, number> = { pending: 0, delivered: 0, dead: 0 }
    for (const { status, n } of this.stmt.count.all()) counts[status] = n
    return counts
  }

  async ping () { this.db.prepare('SELECT 1').get() }

  async close () {
    this.inserts.flushNow()
    this.db.close()
  }
}

function migrate (db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)')
  const done = new Set(db.prepare<[], { version: number }>('SELECT version FROM schema_migrations').all().map((r) => r.version))
  for (const m of sqliteMigrations) {
    if (done.has(m.version)) continue
    db.transaction(() => {
      db.exec(m.sql)
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, Date.now())
    }).immediate()
  }
}
