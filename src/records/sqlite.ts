// The embedded store: one SQLite file under DATA_DIR (better-sqlite3, synchronous and fast).
// Commits do not wait for the disk inside SQLite: a write that must survive power loss awaits `durable()`, a flush
// of the WAL on the thread pool that every commit of the meantime shares (wal-sync.ts). Ticket inserts are
// group-committed: the inserts queued within one turn of the event loop share one transaction, and while a flush
// runs, so do those of every turn until it ends.
import Database from 'better-sqlite3'
import { mkdirSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { writeProbe } from '../write-probe.js'
import { migrate } from './migrations/sqlite.js'
import { TickBatch, type Pending } from './tick-batch.js'
import { WalSync, type SyncFn } from './wal-sync.js'
import { eventMapping, uploadMapping, type Codec } from './columns.js'
import { SqliteTicketInserts } from './sqlite-tickets.js'
import { SqliteRetention } from './sqlite-retention.js'
import type { ConfirmResult, DeleteResult, EventStatus, NewEvent, NewUpload, PageCursor, PruneCursor, PublishedImage, RecordStore, UploadRecord, UploadStatus } from './record-store.js'

type Row = Record<string, unknown>
type EventRow = Row

// No cursor: from before the first record ('' sorts before every id).
const page = (before: Date, limit: number, after?: PageCursor) =>
  ({ before: before.getTime(), limit, at: after?.expiresAt.getTime() ?? Number.MIN_SAFE_INTEGER, id: after?.id ?? '' })
const codec: Codec = { time: { read: (v) => new Date(v as number), write: (d) => d.getTime() }, integer: (v) => v as number }
const uploads = uploadMapping(codec)
const toEvent = eventMapping(codec)
const toUpload = uploads.toUpload

/** `sync`: the WAL flush, replaced by tests to hold or fail it. */
export function openSqliteStore (dataDir: string, opts: { file?: string, sync?: SyncFn } = {}): SqliteStore {
  mkdirSync(dataDir, { recursive: true })
  const file = join(dataDir, opts.file ?? 'image-service.sqlite')
  const db = new Database(file)
  try {
    return new SqliteStore(db, opts.sync)
  } catch (err) {
    db.close()
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') {
      throw new Error(`${file} is open in another process: an SQLite file belongs to one image-service process (stop the other one; for several replicas set DATABASE_URL, docs/replicas.md)`, { cause: err })
    }
    throw err
  }
}

export class SqliteStore implements RecordStore {
  readonly kind = 'sqlite' as const
  private readonly db: Database.Database
  /**
   * Rows whose last change is committed but not yet flushed (by upload and event id), with the flush they wait for:
   * committed rows are visible at once, so a reader that gets one waits for it and never answers or acts on a
   * change a power failure could still take back. (New tickets are not here: nobody knows their ids yet.)
   */
  private readonly unflushed = new Map<string, Promise<void>>()
  /** A turn's tickets, or, while a flush runs, every ticket until it ends: one commit (WalSync.afterFlush). */
  private readonly inserts = new TickBatch<NewUpload>((batch) => { this.insertBatch(batch) }, (resume) => this.wal.afterFlush(resume))
  private readonly tickets: SqliteTicketInserts
  private readonly retention: SqliteRetention
  private readonly stmt
  private readonly wal: WalSync

  constructor (db: Database.Database, sync?: SyncFn) {
    this.db = db
    // The file belongs to this process (docs/replicas.md), and SQLite is told so: no file lock per transaction and
    // the WAL index in memory instead of a shared-memory file (docs/performance.md). Set before the first read, so
    // a second process is refused (SQLITE_BUSY, after the 5 s busy timeout) instead of sharing the file.
    db.pragma('locking_mode = EXCLUSIVE')
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    // Checkpoint every ~40 MB of WAL instead of ~4 MB: a page rewritten by many commits is copied back once.
    db.pragma('wal_autocheckpoint = 10000')
    db.pragma('busy_timeout = 5000')
    migrate(db)
    // From here on COMMIT only writes the WAL; durable() flushes it (checkpoints still sync as SQLite does them).
    // The WAL file exists from the migrations' first write and is removed only when the last connection closes.
    db.pragma('synchronous = NORMAL')
    this.wal = new WalSync(openSync(`${db.name}-wal`, 'r'), sync)
    this.stmt = {
      getUpload: db.prepare<[string], Row>('SELECT * FROM uploads WHERE id = ?'),
      confirm: db.prepare('UPDATE uploads SET status = \'confirmed\', size = ?, image = ?, confirmed_at = ?, updated_at = ?, cleaned_at = NULL WHERE id = ? AND status = \'pending\''),
      insertEvent: db.prepare(`INSERT INTO outbox (id, upload_id, type, payload, status, attempts, next_attempt_at, created_at)
        VALUES (@id, @uploadId, @type, @payload, 'pending', 0, @createdAt, @createdAt)`),
      // Pages in (expires_at, id) order after a cursor: records a pass could not settle do not hide the ones after.
      expiredPending: db.prepare<{ before: number, at: number, id: string, limit: number }, Row>('SELECT * FROM uploads WHERE status = \'pending\' AND expires_at < @before AND (expires_at > @at OR (expires_at = @at AND id > @id)) ORDER BY expires_at, id LIMIT @limit'),
      // Strictly older tickets: (created_at, id) orders two tickets of the same millisecond one way only.
      replaceable: db.prepare<{ owner: string, id: string, at: number }, Row>('SELECT * FROM uploads WHERE owner_id = @owner AND status = \'confirmed\' AND (created_at < @at OR (created_at = @at AND id < @id)) ORDER BY created_at, id'),
      supersededBy: db.prepare<{ owner: string, id: string, at: number }, Row>(`SELECT * FROM uploads u WHERE owner_id = @owner AND status = 'confirmed' AND (created_at > @at OR (created_at = @at AND id > @id))
        AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.upload_id = u.id AND o.type = 'image.confirmed' AND o.status <> 'delivered') ORDER BY created_at DESC, id DESC LIMIT 1`),
      markDeleted: db.prepare<[number, string]>('UPDATE uploads SET status = \'deleted\', updated_at = ?, cleaned_at = NULL WHERE id = ? AND status <> \'deleted\''),
      dropUndelivered: db.prepare<[string]>('DELETE FROM outbox WHERE upload_id = ? AND type = \'image.confirmed\' AND status <> \'delivered\''),
      leftovers: db.prepare<{ before: number, at: number, id: string, limit: number }, Row>('SELECT * FROM uploads WHERE cleaned_at IS NULL AND status <> \'pending\' AND expires_at < @before AND (expires_at > @at OR (expires_at = @at AND id > @id)) ORDER BY expires_at, id LIMIT @limit'),
      due: db.prepare<[number, number, number], EventRow>('SELECT * FROM outbox WHERE status = \'pending\' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at LIMIT ?'),
      lease: db.prepare('UPDATE outbox SET lease_until = ? WHERE id = ?'),
      renew: db.prepare<[number, string, number]>('UPDATE outbox SET lease_until = ? WHERE id = ? AND status = \'pending\' AND lease_until = ?'),
      delivered: db.prepare('UPDATE outbox SET status = \'delivered\', delivered_at = ?, lease_until = NULL, attempts = attempts + 1 WHERE id = ?'),
      failed: db.prepare('UPDATE outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, lease_until = NULL WHERE id = ? AND status = \'pending\''),
      release: db.prepare('UPDATE outbox SET lease_until = NULL WHERE id = ? AND status = \'pending\''),
      getEvent: db.prepare<[string], EventRow>('SELECT * FROM outbox WHERE id = ?'),
      listEvents: db.prepare<[string, number], EventRow>('SELECT * FROM outbox WHERE status = ? ORDER BY created_at, id LIMIT ?'),
      redrive: db.prepare('UPDATE outbox SET status = \'pending\', attempts = 0, next_attempt_at = ?, lease_until = NULL WHERE id = ? AND status = \'dead\'')
    }
    this.tickets = new SqliteTicketInserts(db, uploads.insertValues)
    this.retention = new SqliteRetention(db)
  }

  createUpload (upload: NewUpload): Promise<void> {
    return this.inserts.add(upload)
  }

  /** Commits a turn's tickets in one transaction; they resolve once the WAL flush after the commit is done. */
  private insertBatch (batch: Array<Pending<NewUpload>>): void {
    const failed = this.wal.failed
    if (failed !== undefined) {
      for (const p of batch) p.reject(failed)
      return
    }
    const committed = this.tickets.insert(batch)
    if (committed.length === 0) return
    this.wal.durable().then(() => { for (const p of committed) p.resolve() }, (err: unknown) => { for (const p of committed) p.reject(err) })
  }

  /** After a failed flush nothing more is written or read: what was written since may be gone after a restart. */
  private guard (): void {
    const failed = this.wal.failed
    if (failed !== undefined) throw failed
  }

  /** Waits for the flush of the commit that last changed these rows, while it is running. */
  private async flushed<T extends { id: string }> (rows: T[]): Promise<T[]> {
    for (const r of rows) {
      const flush = this.unflushed.get(r.id)
      if (flush !== undefined) await flush
    }
    return rows
  }

  /** After a commit that changed these rows: durable once it resolves; readers of the rows wait for it too. */
  private durable (ids: string[]): Promise<void> {
    const flush = this.wal.durable()
    for (const id of ids) this.unflushed.set(id, flush)
    const forget = () => { for (const id of ids) if (this.unflushed.get(id) === flush) this.unflushed.delete(id) }
    flush.then(forget, forget)
    return flush
  }

  async getUpload (id: string) {
    this.guard()
    const row = this.stmt.getUpload.get(id)
    return row === undefined ? undefined : (await this.flushed([toUpload(row)]))[0]
  }

  async confirmUpload (id: string, size: number, confirmedAt: Date, event: (record: UploadRecord) => NewEvent, image?: PublishedImage): Promise<ConfirmResult | undefined> {
    this.guard()
    const result = this.db.transaction((): (ConfirmResult & { eventId?: string }) | undefined => {
      const at = confirmedAt.getTime()
      const changed = this.stmt.confirm.run(size, image === undefined ? null : JSON.stringify(image), at, at, id).changes === 1
      const row = this.stmt.getUpload.get(id)
      if (row === undefined) return undefined
      const record = toUpload(row)
      if (changed) {
        const e = event(record)
        this.stmt.insertEvent.run({ ...e, createdAt: e.createdAt.getTime() })
        return { record, changed, eventId: e.id }
      }
      return { record, changed }
    }).immediate()
    if (result === undefined) return undefined
    const { eventId, ...confirmed } = result
    if (eventId !== undefined) await this.durable([id, eventId])
    // Unchanged: what was read may be another caller's change, committed a moment ago.
    else await this.flushed([confirmed.record])
    return confirmed
  }

  async planImage (id: string, image: PublishedImage) {
    this.guard()
    const planned = this.db.prepare('UPDATE uploads SET image = ? WHERE id = ? AND status = \'pending\'').run(JSON.stringify(image), id).changes === 1
    if (planned) await this.durable([id])
    return planned
  }

  async transition (id: string, from: readonly UploadStatus[], to: UploadStatus, at: Date) {
    this.guard()
    const marks = from.map(() => '?').join(',')
    // The SET reads the old status: the same status again is the sweeper's touch (record-store.ts).
    const changes = this.db.prepare(`UPDATE uploads SET cleaned_at = CASE WHEN status = ? THEN ? END, status = ?, updated_at = ? WHERE id = ? AND status IN (${marks})`)
      .run(to, at.getTime(), to, at.getTime(), id, ...from).changes
    if (changes !== 1) return undefined
    await this.durable([id])
    return await this.getUpload(id)
  }

  async listExpiredPending (before: Date, limit: number, after?: PageCursor) {
    this.guard()
    return await this.flushed(this.stmt.expiredPending.all(page(before, limit, after)).map(toUpload))
  }

  async listReplaceable (ownerId: string, newer: UploadRecord) {
    this.guard()
    return await this.flushed(this.stmt.replaceable.all({ owner: ownerId, id: newer.id, at: newer.createdAt.getTime() }).map(toUpload))
  }

  async supersededBy (ownerId: string, older: UploadRecord) {
    this.guard()
    const row = this.stmt.supersededBy.get({ owner: ownerId, id: older.id, at: older.createdAt.getTime() })
    return row === undefined ? undefined : (await this.flushed([toUpload(row)]))[0]
  }

  async deleteUpload (id: string, at: Date, event: (record: UploadRecord) => NewEvent): Promise<DeleteResult | undefined> {
    this.guard()
    const result = this.db.transaction((): (DeleteResult & { eventId?: string }) | undefined => {
      const before = this.stmt.getUpload.get(id)
      if (before === undefined || before.status === 'deleted') return undefined
      this.stmt.markDeleted.run(at.getTime(), id)
      const record = toUpload(this.stmt.getUpload.get(id) as Row)
      const was = before.status as UploadStatus
      if (was !== 'confirmed') return { record, was }
      this.stmt.dropUndelivered.run(id)
      const e = event(record)
      this.stmt.insertEvent.run({ ...e, createdAt: e.createdAt.getTime() })
      return { record, was, eventId: e.id }
    }).immediate()
    if (result === undefined) return undefined
    const { eventId, ...deleted } = result
    await this.durable(eventId === undefined ? [id] : [id, eventId])
    return deleted
  }

  async listLeftovers (before: Date, limit: number, after?: PageCursor) {
    this.guard()
    return await this.flushed(this.stmt.leftovers.all(page(before, limit, after)).map(toUpload))
  }

  // Delivery bookkeeping does not await durable(): at-least-once delivery absorbs its loss on power failure (a lost
  // lease lapses, a lost delivered or failed mark means one more attempt); the next flush or checkpoint covers it.

  async claimEvents (now: Date, limit: number, leaseMs: number) {
    this.guard()
    const events = this.db.transaction(() => {
      const rows = this.stmt.due.all(now.getTime(), now.getTime(), limit)
      const until = now.getTime() + leaseMs
      for (const r of rows) { this.stmt.lease.run(until, r.id); r.lease_until = until }
      return rows.map(toEvent)
    }).immediate()
    // An event is sent only once its confirmation is on disk (it may have been committed a moment ago).
    return await this.flushed(events)
  }

  async renewLease (id: string, held: Date, until: Date) { this.guard(); return this.stmt.renew.run(until.getTime(), id, held.getTime()).changes === 1 }
  async markDelivered (id: string, at: Date) { this.guard(); this.stmt.delivered.run(at.getTime(), id) }
  async markFailed (id: string, error: string, nextAttemptAt: Date, dead: boolean) { this.guard(); this.stmt.failed.run(dead ? 'dead' : 'pending', nextAttemptAt.getTime(), error.slice(0, 500), id) }
  async releaseEvent (id: string) { this.guard(); this.stmt.release.run(id) }

  async getEvent (id: string) {
    this.guard()
    const row = this.stmt.getEvent.get(id)
    return row === undefined ? undefined : (await this.flushed([toEvent(row)]))[0]
  }

  async listEvents (status: EventStatus, limit: number) {
    this.guard()
    return await this.flushed(this.stmt.listEvents.all(status, limit).map(toEvent))
  }

  async redriveEvent (id: string, now: Date) {
    this.guard()
    const changed = this.stmt.redrive.run(now.getTime(), id).changes === 1
    if (changed) await this.durable([id])
    return changed
  }

  // Growth (sqlite-retention.ts): counts kept by triggers; a pruned batch per transaction, not awaited to disk.
  async countEvents () { return this.retention.counts() }
  async pruneEvents (before: Date, limit: number, after?: PruneCursor) { this.guard(); return this.retention.events(before.getTime(), limit, after) }
  async pruneUploads (before: Date, limit: number, after?: PruneCursor) { this.guard(); return this.retention.finishedUploads(before.getTime(), limit, after) }

  async ping () {
    // After a failed flush the disk may have dropped committed pages: not ready until restarted (recovery from disk).
    if (this.wal.failed !== undefined) throw this.wal.failed
    this.db.prepare('SELECT 1').get()
  }

  /** Its folder takes a block: any commit may need one (the WAL grows until a checkpoint). */
  async checkWrites () { await writeProbe(`${this.db.name}-ready-probe`) }

  async close () {
    // Tickets queued just now are committed, and what is committed is flushed, before the connection closes.
    this.inserts.flushNow()
    await this.wal.durable().catch(() => {})
    this.db.close()
    await this.wal.close()
  }
}
