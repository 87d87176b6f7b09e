// The RecordStore contract on the embedded SQLite store: each test gets its own data folder.
import Database from 'better-sqlite3'
import { fdatasync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { INSERT_COLUMNS } from '../../src/records/columns.js'
import { sqliteMigrations } from '../../src/records/migrations/sqlite.js'
import { openSqliteStore } from '../../src/records/sqlite.js'
import { scratch } from '../helpers/build.js'
import { storeContract } from './contract.js'
import type { NewUpload, UploadRecord } from '../../src/records/record-store.js'
import type { SyncFn } from '../../src/records/wal-sync.js'

storeContract(t, async (t) => {
  const dir = scratch(t, 'store-sqlite-')
  return async () => openSqliteStore(dir)
}, { replicas: false })

/** A WAL flush held until released (the real one then runs), or failed. */
function heldSync () {
  const held: Array<() => void> = []
  let fail: NodeJS.ErrnoException | undefined
  let open = false
  const sync: SyncFn = (fd, cb) => {
    const go = () => { if (fail !== undefined) cb(fail); else fdatasync(fd, cb) }
    if (open) go()
    else held.push(go)
  }
  const release = () => { for (const go of held.splice(0)) go() }
  return { sync, held: () => held.length, release, failWith: (err: NodeJS.ErrnoException) => { fail = err }, open: () => { open = true; release() } }
}
const pending = async (p: Promise<unknown>) => await Promise.race([p.then(() => false, () => false), new Promise((resolve) => setTimeout(() => resolve(true), 30))])
const upload = (id: string): NewUpload => ({ id, ownerId: 'u1', key: `profile-images/${id}.png`, contentType: 'image/png', maxBytes: 10, declaredSize: null, createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000) })

t.test('commits write the WAL; tickets and confirmations answer only once a flush after them is done', async (t) => {
  const dir = scratch(t, 'store-sqlite-sync-')
  const h = heldSync()
  const store = openSqliteStore(dir, { sync: h.sync })
  t.teardown(async () => {
    h.open()
    await store.close()
  })
  const db = (store as unknown as { db: { pragma: (s: string, o: { simple: true }) => unknown } }).db
  t.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL: COMMIT itself does not wait for the disk')

  const created = store.createUpload(upload('upl_a'))
  t.ok(await pending(created), 'the ticket waits for the flush')
  t.equal(h.held(), 1, 'one flush')
  h.release()
  await created

  const event = (r: UploadRecord) => ({ id: 'msg_a', uploadId: r.id, type: 'image.confirmed', payload: '{}', createdAt: new Date() })
  const confirmed = store.confirmUpload('upl_a', 5, new Date(), event)
  t.ok(await pending(confirmed), 'the confirmation and its outbox row wait for the flush too')
  const read = store.getUpload('upl_a')
  t.ok(await pending(read), 'so does a second completion reading it: the change is committed, not yet on disk')
  const again = store.confirmUpload('upl_a', 5, new Date(), event)
  t.ok(await pending(again), 'and one confirming it again')
  const claimed = store.claimEvents(new Date(), 10, 60_000)
  t.ok(await pending(claimed), 'and its webhook is not sent before the confirmation is on disk')
  t.equal(await store.getUpload('upl_none'), undefined, 'readers of other rows do not wait')
  h.release()
  t.equal((await confirmed)?.changed, true)
  t.equal((await read)?.status, 'confirmed', 'all of them go on with the one flush')
  t.equal((await again)?.changed, false)
  t.same((await claimed).map((e) => e.id), ['msg_a'])

  await store.markDelivered('msg_a', new Date())
  t.equal(h.held(), 0, 'delivery bookkeeping does not wait for a flush')
  t.equal((await store.countEvents()).delivered, 1)
})

t.test('tickets that come while a flush runs are committed together when it ends, and ride the next flush', async (t) => {
  const dir = scratch(t, 'store-sqlite-hold-')
  const h = heldSync()
  const store = openSqliteStore(dir, { sync: h.sync })
  t.teardown(async () => {
    h.open()
    await store.close()
  })
  const db = (store as unknown as { db: Database.Database }).db
  const rows = () => (db.prepare('SELECT count(*) AS n FROM uploads').get() as { n: number }).n
  const first = store.createUpload(upload('upl_hold_1'))
  await pending(first)
  t.equal(rows(), 1, 'the first ticket is committed at the end of its turn, and its flush runs')
  // Three more, each in a turn of its own, while that flush is held.
  const later: Array<Promise<void>> = []
  for (const id of ['upl_hold_2', 'upl_hold_3', 'upl_hold_4']) {
    later.push(store.createUpload(upload(id)))
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.equal(rows(), 1, 'held back while the flush runs: they would wait for the next flush anyway')
  t.equal(h.held(), 1, 'and no second flush is started for them yet')
  h.release()
  await first
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(rows(), 4, 'committed together at the end of the turn the flush ended in')
  t.equal(h.held(), 1, 'with the one flush that follows')
  t.ok(await pending(Promise.all(later)), 'not durable before it ends')
  h.release()
  await Promise.all(later)
})

t.test('a failed WAL flush fails the tickets waiting on it and makes the store unready', async (t) => {
  const dir = scratch(t, 'store-sqlite-eio-')
  const h = heldSync()
  const store = openSqliteStore(dir, { sync: h.sync })
  t.teardown(async () => await store.close())
  const created = store.createUpload(upload('upl_b'))
  await pending(created)
  h.failWith(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))
  h.release()
  await t.rejects(created, { code: 'EIO' }, 'never answered as stored')
  await t.rejects(store.ping(), { code: 'EIO' }, 'readiness fails until a restart')
  await t.rejects(store.createUpload(upload('upl_c')), { code: 'EIO' })
  const event = (r: UploadRecord) => ({ id: 'msg_b', uploadId: r.id, type: 'image.confirmed', payload: '{}', createdAt: new Date() })
  await t.rejects(store.confirmUpload('upl_b', 5, new Date(), event), { code: 'EIO' }, 'nothing more is written')
  await t.rejects(store.transition('upl_b', ['pending'], 'expired', new Date()), { code: 'EIO' })
  await t.rejects(store.claimEvents(new Date(), 10, 1000), { code: 'EIO' }, 'nor are webhooks sent')
  await t.rejects(store.markDelivered('msg_b', new Date()), { code: 'EIO' })
  await t.rejects(store.getUpload('upl_b'), { code: 'EIO' }, 'nor is anything read back as if it were safe')
})

t.test('a turn of more tickets than one INSERT takes: every row committed, whole', async (t) => {
  const dir = scratch(t, 'store-sqlite-many-')
  const store = openSqliteStore(dir)
  t.teardown(async () => await store.close())
  const batch = Array.from({ length: 70 }, (_, i) => ({ ...upload(`upl_many_${i}`), ownerId: `owner-${i}`, declaredSize: i }))
  await Promise.all(batch.map((u) => store.createUpload(u)))
  for (const u of batch) t.match(await store.getUpload(u.id), { ownerId: u.ownerId, key: u.key, declaredSize: u.declaredSize, status: 'pending' })
  const db = (store as unknown as { db: Database.Database }).db
  t.equal((db.prepare('SELECT count(*) AS n FROM uploads').get() as { n: number }).n, 70)
})

t.test('the file belongs to one store: a second one is refused with what to do, and opens once the first closed', async (t) => {
  const dir = scratch(t, 'store-sqlite-exclusive-')
  const first = openSqliteStore(dir)
  await first.createUpload(upload('upl_first'))
  t.throws(() => openSqliteStore(dir), { message: /image-service\.sqlite is open in another process: .*one image-service process.*DATABASE_URL/ }, 'refused, not shared')
  t.equal((await first.getUpload('upl_first'))?.id, 'upl_first', 'the first store goes on')
  await first.close()
  const again = openSqliteStore(dir)
  t.teardown(async () => await again.close())
  t.equal((await again.getUpload('upl_first'))?.id, 'upl_first')
})

t.test('a closed store opens again: its WAL file, removed on close, is made again for the flush', async (t) => {
  const dir = scratch(t, 'store-sqlite-reopen-')
  const first = openSqliteStore(dir)
  await first.createUpload(upload('upl_first'))
  await first.close()
  const again = openSqliteStore(dir)
  t.teardown(async () => await again.close())
  t.equal((await again.getUpload('upl_first'))?.id, 'upl_first', 'what was answered is there')
  await again.createUpload(upload('upl_again'))
  t.equal((await again.getUpload('upl_again'))?.id, 'upl_again')
})

t.test('schema 4 rebuilds a schema-3 file: rows, events and foreign keys kept, no temporary b-tree per write', async (t) => {
  const dir = scratch(t, 'store-sqlite-v4-')
  // A file as the previous release left it: migrations 1-3, an upload in each relevant state and an event.
  const old = new Database(join(dir, 'image-service.sqlite'))
  old.pragma('journal_mode = WAL')
  old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)')
  for (const m of sqliteMigrations.filter((m) => m.version <= 3)) {
    old.exec(m.sql)
    old.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, 1)
  }
  const row = old.prepare(`INSERT INTO uploads (id, owner_id, key, content_type, status, max_bytes, declared_size, size, created_at, expires_at, confirmed_at, updated_at)
    VALUES (?, 'u1', ?, 'image/png', ?, 10, NULL, ?, 1000, 5000, ?, ?)`)
  row.run('upl_pending', 'k/p.png', 'pending', null, null, 1000)
  row.run('upl_confirmed', 'k/c.png', 'confirmed', 7, 2000, 2000)
  row.run('upl_rejected', 'k/r.png', 'rejected', null, null, 3000)
  row.run('upl_expired', 'k/e.png', 'expired', null, null, 6000)
  old.prepare('INSERT INTO outbox (id, upload_id, type, payload, status, attempts, next_attempt_at, created_at) VALUES (\'msg_1\', \'upl_confirmed\', \'image.confirmed\', \'{}\', \'pending\', 0, 2000, 2000)').run()
  old.close()

  const store = openSqliteStore(dir)
  t.teardown(async () => await store.close())
  const db = (store as unknown as { db: Database.Database }).db
  t.same(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all().map((r) => (r as { version: number }).version), sqliteMigrations.map((m) => m.version))
  t.match(await store.getUpload('upl_confirmed'), { status: 'confirmed', size: 7, key: 'k/c.png', confirmedAt: new Date(2000) }, 'rows kept, column for column')
  t.equal((await store.getEvent('msg_1'))?.uploadId, 'upl_confirmed', 'events kept')
  t.same((await store.listExpiredPending(new Date(10_000), 10)).map((u) => u.id), ['upl_pending'])
  t.same((await store.listLeftovers(new Date(10_000), 10)).map((u) => u.id).sort(), ['upl_confirmed', 'upl_rejected'], 'rows from before are left to the sweeper as the previous release left them (schema 7)')
  t.equal(db.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are on again')
  t.throws(() => db.prepare('INSERT INTO outbox (id, upload_id, type, payload, status, next_attempt_at, created_at) VALUES (\'msg_x\', \'upl_none\', \'t\', \'{}\', \'pending\', 1, 1)').run(), { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' }, 'and still point at uploads')
  t.throws(() => db.prepare('UPDATE uploads SET status = \'lost\' WHERE id = \'upl_pending\'').run(), { code: 'SQLITE_CONSTRAINT_CHECK' }, 'statuses are still checked')
  // SQLite checks `IN (...)` of more than two values with a b-tree built on each execution (docs/performance.md).
  // The store's own statements are checked: their SQL text, explained.
  const internals = store as unknown as { stmt: Record<string, { source: string }>, tickets: { statements: Array<{ source: string } | undefined> } }
  const stmt = internals.stmt
  const explainOps = (source: string | undefined, ...args: unknown[]) => db.prepare(`EXPLAIN ${source ?? ''}`).all(...args).filter((op) => (op as { opcode: string }).opcode === 'OpenEphemeral').length
  const ephemeral = (name: string, ...args: unknown[]) => explainOps(stmt[name]?.source, ...args)
  // One ticket, then two in one turn: the INSERTs of one row and of two rows.
  await store.createUpload(upload('upl_one'))
  await Promise.all([store.createUpload(upload('upl_two_a')), store.createUpload(upload('upl_two_b'))])
  // One value per column a ticket writes (EXPLAIN reads none of them): a new ticket field changes nothing here.
  const ticketRow = INSERT_COLUMNS.map((c) => (c.column === 'status' ? 'pending' : 1))
  t.equal(explainOps(internals.tickets.statements[1]?.source, ...ticketRow), 0, 'a ticket insert builds no temporary b-tree')
  t.equal(explainOps(internals.tickets.statements[2]?.source, ...ticketRow, ...ticketRow), 0, 'nor does one of two tickets')
  t.equal(ephemeral('confirm', 1, null, 2, 3, 'x'), 0, 'nor does a confirmation')
  t.equal(ephemeral('delivered', 1, 'x'), 0, 'nor does a delivery mark')
  t.match(db.prepare(`EXPLAIN QUERY PLAN ${stmt.leftovers?.source ?? ''}`).all({ before: 5, at: 0, id: '', limit: 10 }), [{ detail: /USING INDEX uploads_leftovers/ }], 'the sweeper\'s leftovers query uses its index')
  t.match(db.prepare(`EXPLAIN QUERY PLAN ${stmt.expiredPending?.source ?? ''}`).all({ before: 5, at: 0, id: '', limit: 10 }), [{ detail: /USING INDEX uploads_pending_expiry/ }], 'and so does its expiry query')
})

t.test('schema 7 on a schema-6 file: counts kept by triggers from the rows already there; lists, counts and pruning use indexes', async (t) => {
  const dir = scratch(t, 'store-sqlite-v7-')
  const old = new Database(join(dir, 'image-service.sqlite'))
  old.pragma('journal_mode = WAL')
  old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)')
  for (const m of sqliteMigrations.filter((m) => m.version <= 6)) {
    old.exec(m.sql)
    old.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, 1)
  }
  old.prepare('INSERT INTO uploads (id, owner_id, key, content_type, status, max_bytes, created_at, expires_at, updated_at) VALUES (\'upl_1\', \'u1\', \'k/1.png\', \'image/png\', \'confirmed\', 10, 1, 2, 1)').run()
  const event = old.prepare('INSERT INTO outbox (id, upload_id, type, payload, status, attempts, next_attempt_at, created_at, delivered_at) VALUES (?, \'upl_1\', \'image.confirmed\', \'{}\', ?, 1, 1, 1, ?)')
  for (let i = 0; i < 5; i++) event.run(`msg_delivered_${i}`, 'delivered', 1)
  event.run('msg_dead', 'dead', null)
  old.close()

  const store = openSqliteStore(dir)
  t.teardown(async () => await store.close())
  t.same(await store.countEvents(), { pending: 0, delivered: 5, dead: 1 }, 'counted once, by the migration')
  t.equal(await store.redriveEvent('msg_dead', new Date(10)), true)
  await store.markDelivered('msg_dead', new Date(20))
  t.equal((await store.pruneEvents(new Date(5), 2)).removed, 2)
  t.same(await store.countEvents(), { pending: 0, delivered: 4, dead: 0 }, 'and kept by every change since')

  const db = (store as unknown as { db: Database.Database }).db
  const plan = (sql: string, ...args: unknown[]) => db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args).map((r) => (r as { detail: string }).detail).join('; ')
  const internals = store as unknown as { stmt: Record<string, { source: string }>, retention: Record<string, { source: string }> }
  const source = (s: { source: string } | undefined) => s?.source ?? ''
  const listing = plan(source(internals.stmt.listEvents), 'dead', 10)
  t.match(listing, /USING INDEX outbox_status_created/, 'dead events are listed from an index')
  t.notMatch(listing, /TEMP B-TREE/, 'in its order: no sort')
  t.notMatch(plan(source(internals.retention.count)), /outbox\b(?!_counts)/, 'a scrape reads the counts, not the outbox')
  const window = { before: 1, at: 0, id: '', limit: 10 }
  const delivered = plan(source(internals.retention.deliveredDue), window)
  t.match(delivered, /USING INDEX outbox_status_created \(status=\? AND \(created_at,id\)>\(\?,\?\) AND created_at<\?\)/, 'delivered events due are found by age from an index')
  t.match(plan(source(internals.retention.dead), { before: 1, limit: 10 }), /USING (COVERING )?INDEX outbox_status_created/, 'dead ones too')
  const uploads = plan(source(internals.retention.uploadsDue), window)
  t.match(uploads, /USING INDEX uploads_finished \(\(updated_at,id\)>\(\?,\?\) AND updated_at<\?\)/, 'and uploads that ended')
  for (const p of [delivered, uploads]) t.notMatch(p, /TEMP B-TREE/, 'oldest first, in index order')
})
