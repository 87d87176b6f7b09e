// The RecordStore contract on PostgreSQL (each test in its own schema), plus what only a shared server has:
// replicas migrating at once, and the configured pool settings.
import pg from 'pg'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { postgresMigrations } from '../../src/records/migrations/postgres.js'
import { openPostgresStore } from '../../src/records/postgres.js'
import { adminQuery, postgresUnavailable, TEST_DATABASE_URL, testSchema, withSchema } from '../helpers/postgres.js'
import { storeContract } from './contract.js'

const skip = await postgresUnavailable()

const databaseConfig = (url: string, env: Record<string, string> = {}) =>
  loadConfig({ ENVIRONMENT: 'development', DATABASE_URL: url, ...env }).database

t.test('RecordStore contract', { skip }, async (t) => {
  storeContract(t, async (t) => {
    const { url } = await testSchema(t)
    return async () => await openPostgresStore(databaseConfig(url))
  }, { replicas: true })
})

t.test('replicas starting at once apply each migration exactly once, in the chosen schema', { skip }, async (t) => {
  const { url, schema } = await testSchema(t)
  const stores = await Promise.all(Array.from({ length: 6 }, () => openPostgresStore(databaseConfig(url))))
  t.teardown(() => Promise.all(stores.map((s) => s.close())))
  const rows = await adminQuery<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`)
  t.same(rows.map((r) => r.version), postgresMigrations.map((m) => m.version))
  const tables = await adminQuery<{ table_name: string }>(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema])
  t.same(tables.map((r) => r.table_name), ['outbox', 'outbox_counts', 'schema_migrations', 'uploads'])
  const reopened = await openPostgresStore(databaseConfig(url))
  await reopened.close()
  t.equal((await adminQuery(`SELECT 1 FROM ${schema}.schema_migrations`)).length, postgresMigrations.length, 'a restart applies nothing again')
})

t.test('connections are named, and a statement stuck on a lock fails after DATABASE_STATEMENT_TIMEOUT_MS', { skip }, async (t) => {
  const { url, schema } = await testSchema(t)
  const store = await openPostgresStore(databaseConfig(url, { DATABASE_STATEMENT_TIMEOUT_MS: '300' }))
  t.teardown(() => store.close())
  await store.createUpload({
    id: 'upl_locked', ownerId: 'o', key: 'profile-images/locked.png', contentType: 'image/png', maxBytes: 10, declaredSize: null, createdAt: new Date(), expiresAt: new Date()
  })
  const names = await adminQuery<{ n: number }>(
    'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = \'image-service\' AND datname = current_database()')
  t.ok(names[0]!.n >= 1, 'application_name is image-service')

  const holder = new pg.Client({ connectionString: withSchema(TEST_DATABASE_URL, schema) })
  await holder.connect()
  t.teardown(() => holder.end())
  await holder.query('BEGIN')
  await holder.query('SELECT * FROM uploads WHERE id = $1 FOR UPDATE', ['upl_locked'])
  await t.rejects(store.transition('upl_locked', ['pending'], 'expired', new Date()), { code: '57014' }, 'canceled by statement_timeout')
  await holder.query('ROLLBACK')
  t.equal((await store.transition('upl_locked', ['pending'], 'expired', new Date()))?.status, 'expired', 'the pool works on')
})

t.test('a missing schema stops the start with an actionable message', { skip }, async (t) => {
  await t.rejects(openPostgresStore(databaseConfig(withSchema(TEST_DATABASE_URL, 'no_such_schema_here'))), /DATABASE_URL.*search_path does not exist/)
})

t.test('delivery bookkeeping does not wait for the WAL flush; tickets and confirmations do', { skip }, async (t) => {
  const { url, schema } = await testSchema(t)
  const store = await openPostgresStore(databaseConfig(url))
  t.teardown(() => store.close())
  const pools = store as unknown as Record<'pool' | 'bookkeeping', pg.Pool>
  const setting = async (pool: pg.Pool) => (await pool.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit
  t.equal(await setting(pools.bookkeeping), 'off', 'claims and marks commit without waiting')
  t.equal(await setting(pools.pool), 'on', 'everything else waits')
  const { rows } = await pools.bookkeeping.query<{ schema: string }>('SELECT current_schema() AS schema')
  t.equal(rows[0]?.schema, schema, 'the URL\'s search_path still applies')
})

t.test('checkWrites fails while the database is read-only (a standby, default_transaction_read_only) and passes once it is not', { skip }, async (t) => {
  const { url } = await testSchema(t)
  const store = await openPostgresStore(databaseConfig(url, { DATABASE_POOL_MAX: '1' }))
  t.teardown(() => store.close())
  await store.checkWrites()
  // The pool's one connection turns read-only, as every session on a standby is.
  const pool = (store as unknown as { pool: pg.Pool }).pool
  await pool.query('SET default_transaction_read_only = on')
  await store.ping()
  await t.rejects(store.checkWrites(), /read-only/, 'reachable, but refusing writes')
  await pool.query('SET default_transaction_read_only = off')
  await store.checkWrites()
})

t.test('event counts: a ledger kept by triggers and folded by every replica at once stays whole', { skip }, async (t) => {
  const { url, schema } = await testSchema(t)
  const stores = await Promise.all([0, 1, 2].map(async () => await openPostgresStore(databaseConfig(url))))
  t.teardown(() => Promise.all(stores.map((s) => s.close())))
  const store = (i: number) => stores[i % stores.length] as (typeof stores)[number]
  const ids = Array.from({ length: 30 }, (_, i) => `upl_ledger_${i}`)
  // Confirmations, deliveries and failures on three replicas, each followed by a scrape that folds the ledger.
  await Promise.all(ids.map(async (id, i) => {
    await store(i).createUpload({ id, ownerId: 'o', key: `profile-images/${id}.png`, contentType: 'image/png', maxBytes: 10, declaredSize: null, createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000) })
    await store(i).confirmUpload(id, 1, new Date(), (r) => ({ id: `msg_${r.id}`, uploadId: r.id, type: 'image.confirmed', payload: '{}', createdAt: new Date() }))
    await store(i + 1).countEvents()
    if (i % 3 === 0) await store(i + 2).markDelivered(`msg_${id}`, new Date())
    if (i % 3 === 1) await store(i + 2).markFailed(`msg_${id}`, 'HTTP 500', new Date(), true)
    await store(i + 2).countEvents()
  }))
  t.same(await store(0).countEvents(), { pending: 10, delivered: 10, dead: 10 })
  const rows = await adminQuery<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.outbox_counts`)
  t.ok((rows[0]?.n ?? 0) <= 3, 'folded into a row per status')
})
