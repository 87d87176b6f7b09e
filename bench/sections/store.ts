// Store growth (issue 16, item 8): a store holding 1 M delivered webhook events and their uploads, as one that never
// removed anything would after a while. Times what a /metrics scrape counts and what listing dead events reads, on
// the schema before retention (the statements of that release) and after the migration that adds it (the store's own
// calls), then the first retention pass (RETENTION_DAYS=30 over 60 days of records): how long one batch holds the
// store and the whole pass. SQLite, then PostgreSQL when it answers (TEST_DATABASE_URL or the local test database).
// BENCH_STORE_EVENTS sets the size (default 1 000 000).
import Database from 'better-sqlite3'
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { loadConfig } from '../../src/config.js'
import { createMetrics } from '../../src/metrics.js'
import { postgresMigrations } from '../../src/records/migrations/postgres.js'
import { sqliteMigrations } from '../../src/records/migrations/sqlite.js'
import { openPostgresStore } from '../../src/records/postgres.js'
import { PRUNE_BATCH, Pruner } from '../../src/records/pruner.js'
import type { RecordStore } from '../../src/records/record-store.js'
import { openSqliteStore } from '../../src/records/sqlite.js'
import { SERVICE_ENTRY, startServer } from '../processes.js'
import { median } from '../stats.js'
import type { Row } from '../stats.js'
import type { BenchContext } from './context.js'

const EVENTS = Number(process.env.BENCH_STORE_EVENTS ?? 1_000_000)
const DAY_MS = 86_400_000
const SPAN_MS = 60 * DAY_MS
const DEAD_EVERY = 10_000
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
// What the old release ran for a scrape and for GET /v1/webhooks/events?status=dead.
const OLD = {
  sqlite: { count: 'SELECT status, count(*) AS n FROM outbox GROUP BY status', dead: 'SELECT * FROM outbox WHERE status = ? ORDER BY created_at LIMIT ?' },
  postgres: { count: 'SELECT status, count(*)::int AS n FROM outbox GROUP BY status', dead: 'SELECT * FROM outbox WHERE status = $1 ORDER BY created_at, id LIMIT $2' }
}

// A real image.confirmed body's size: the record's image JSON and the event's payload.
const variants = [64, 128, 256, 512].map((size) => ({ size, width: size, height: size, contentType: 'image/webp', key: `profile-images/0190a1b2c3d4e5f6a7b8c9d0e1-${size}.webp` }))
const IMAGE = JSON.stringify({ width: 1024, height: 768, animated: false, placeholder: 'H/gBBYBgym5ox6hFlIbLpqqgmq+3', variants })
const PAYLOAD = JSON.stringify({ type: 'image.confirmed', timestamp: new Date().toISOString(), data: { uploadId: 'upl_0190a1b2c3d4e5f6a7b8c9d0e1', ownerId: 'owner-123456', key: 'profile-images/0190a1b2c3d4e5f6a7b8c9d0e1.png', url: 'https://bucket.s3.ap-southeast-1.amazonaws.com/profile-images/0190a1b2c3d4e5f6a7b8c9d0e1.png', contentType: 'image/png', size: 123456, ...JSON.parse(IMAGE) as object, createdAt: new Date().toISOString() } })

/** Median ms of `runs` calls after one warm-up. */
async function timed (fn: () => unknown, runs = 7): Promise<number> {
  await fn()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    await fn()
    times.push(performance.now() - start)
  }
  return median(times)
}

/** The first retention pass, each batch timed. */
async function prunePass (store: RecordStore): Promise<{ rows: number, totalMs: number, batchMs: number[] }> {
  const batchMs: number[] = []
  const time = (call: RecordStore['pruneEvents']): RecordStore['pruneEvents'] => async (before, limit, from) => {
    const start = performance.now()
    const batch = await call(before, limit, from)
    batchMs.push(performance.now() - start)
    return batch
  }
  const log = { info: () => {}, error: () => {} } as unknown as ConstructorParameters<typeof Pruner>[3]
  const timedStore = { pruneEvents: time((...a) => store.pruneEvents(...a)), pruneUploads: time((...a) => store.pruneUploads(...a)) }
  const pruner = new Pruner({ retentionDays: 30, sweepIntervalSeconds: 60 }, timedStore, createMetrics(), log)
  const start = performance.now()
  const r = await pruner.prune()
  return { rows: r.events + r.uploads, totalMs: performance.now() - start, batchMs }
}

interface Figures { countBefore: number, countAfter: number, deadBefore: number, deadAfter: number, migrateMs: number, fillMs: number, prune: Awaited<ReturnType<typeof prunePass>>, countPruned: number, scrapeMs?: number }

async function sqliteFigures (ctx: BenchContext): Promise<Figures> {
  const dir = join(ctx.work, 'store-sqlite')
  mkdirSync(dir, { recursive: true })
  const db = new Database(join(dir, 'image-service.sqlite'))
  db.pragma('journal_mode = WAL')
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)')
  for (const m of sqliteMigrations.filter((m) => m.version <= 6)) {
    db.exec(m.sql)
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, Date.now())
  }
  const fillStart = performance.now()
  const upload = db.prepare(`INSERT INTO uploads (id, owner_id, key, content_type, status, max_bytes, size, image, created_at, expires_at, confirmed_at, updated_at)
    VALUES (?, ?, ?, 'image/png', ?, 5242880, 123456, ?, ?, ?, ?, ?)`)
  const event = db.prepare('INSERT INTO outbox (id, upload_id, type, payload, status, attempts, next_attempt_at, created_at, delivered_at) VALUES (?, ?, \'image.confirmed\', ?, ?, 1, ?, ?, ?)')
  const now = Date.now()
  db.transaction(() => {
    for (let i = 0; i < EVENTS; i++) {
      const t = now - SPAN_MS + Math.floor(i * SPAN_MS / EVENTS)
      // Ids as the service makes them (uploads/ids.ts): an upload's begins with its time, an event's is random.
      const id = `upl_${t.toString(16).padStart(11, '0')}${randomBytes(16).toString('base64url')}`
      const dead = i % DEAD_EVERY === 5
      // One owner's images: the newest confirmed, the ones before replaced (and touched by the sweeper after expiry).
      upload.run(id, `owner-${i % 100_000}`, `profile-images/${id}.png`, i % 10 === 0 ? 'confirmed' : 'replaced', IMAGE, t, t + 600_000, t + 60_000, t + 3_600_000)
      event.run(`msg_${randomBytes(16).toString('base64url')}`, id, PAYLOAD, dead ? 'dead' : 'delivered', t + 60_000, t + 60_000, dead ? null : t + 61_000)
    }
  })()
  const fillMs = performance.now() - fillStart
  ctx.progress(`sqlite: ${EVENTS} uploads and events written in ${(fillMs / 1000).toFixed(1)} s`)
  const count = db.prepare(OLD.sqlite.count)
  const deadList = db.prepare(OLD.sqlite.dead)
  const countBefore = await timed(() => count.all())
  const deadBefore = await timed(() => deadList.all('dead', 100))
  db.close()

  const migrateStart = performance.now()
  let store = openSqliteStore(dir)
  const migrateMs = performance.now() - migrateStart
  const countAfter = await timed(() => store.countEvents())
  const deadAfter = await timed(() => store.listEvents('dead', 100))
  await store.close()

  // The scrape itself, over HTTP, from the service on this file (SWEEP_INTERVAL_SECONDS=0: no pruning meanwhile).
  const service = await startServer('service (store growth)', SERVICE_ENTRY, { ...ctx.devEnv, DATA_DIR: dir, UPLOADS_DIR: join(dir, 'uploads') }, { readyPath: '/ready', logFile: join(ctx.work, 'store-service.log') })
  const scrapeMs = await timed(async () => { await (await fetch(`${service.base}/metrics`)).text() }, 15)
  await service.stop()

  store = openSqliteStore(dir)
  const prune = await prunePass(store)
  const countPruned = await timed(() => store.countEvents())
  await store.close()
  return { countBefore, countAfter, deadBefore, deadAfter, migrateMs, fillMs, prune, countPruned, scrapeMs }
}

async function postgresFigures (ctx: BenchContext): Promise<Figures | undefined> {
  const admin = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 })
  admin.on('error', () => {})
  try { await admin.connect() } catch (err) {
    ctx.progress(`postgres: not reachable at ${DATABASE_URL} (${(err as Error).message}); skipped`)
    return undefined
  }
  const schema = `bench_store_${process.pid}`
  const url = new URL(DATABASE_URL)
  url.searchParams.set('options', `-c search_path=${schema}`)
  try {
    await admin.query(`CREATE SCHEMA ${schema}`)
    await admin.query(`SET search_path = ${schema}`)
    await admin.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())')
    for (const m of postgresMigrations.filter((m) => m.version <= 5)) {
      await admin.query(m.sql)
      await admin.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version])
    }
    const fillStart = performance.now()
    // Ids as the service makes them (uploads/ids.ts): an upload's in time order, an event's random (md5 of the same
    // row number: the same in both statements).
    const series = `SELECT i, 'upl_' || lpad(i::text, 11, '0') || 'x' AS id, 'msg_' || md5(i::text) AS event, now() - interval '60 days' + (i * interval '60 days' / ${EVENTS}) AS t,
      i % ${DEAD_EVERY} = 5 AS dead FROM generate_series(0, ${EVENTS - 1}) i`
    await admin.query(`INSERT INTO uploads (id, owner_id, key, content_type, status, max_bytes, size, image, created_at, expires_at, confirmed_at, updated_at)
      SELECT id, 'owner-' || (i % 100000), 'profile-images/' || id || '.png', 'image/png', CASE WHEN i % 10 = 0 THEN 'confirmed' ELSE 'replaced' END, 5242880, 123456, $1,
        t, t + interval '10 minutes', t + interval '1 minute', t + interval '1 hour' FROM (${series}) s`, [IMAGE])
    await admin.query(`INSERT INTO outbox (id, upload_id, type, payload, status, attempts, next_attempt_at, created_at, delivered_at)
      SELECT event, id, 'image.confirmed', $1, CASE WHEN dead THEN 'dead' ELSE 'delivered' END, 1, t + interval '1 minute', t + interval '1 minute',
        CASE WHEN dead THEN NULL ELSE t + interval '61 seconds' END FROM (${series}) s`, [PAYLOAD])
    // As autovacuum would have, long before: statistics, and the visibility map that index-only scans read.
    await admin.query('VACUUM ANALYZE uploads, outbox')
    const fillMs = performance.now() - fillStart
    ctx.progress(`postgres: ${EVENTS} uploads and events written in ${(fillMs / 1000).toFixed(1)} s`)
    const countBefore = await timed(() => admin.query(OLD.postgres.count))
    const deadBefore = await timed(() => admin.query(OLD.postgres.dead, ['dead', 100]))

    const database = loadConfig({ ENVIRONMENT: 'development', DATABASE_URL: url.toString() }).database
    const migrateStart = performance.now()
    const store = await openPostgresStore(database)
    const migrateMs = performance.now() - migrateStart
    try {
      await admin.query('ANALYZE uploads, outbox')
      const countAfter = await timed(() => store.countEvents())
      const deadAfter = await timed(() => store.listEvents('dead', 100))
      const prune = await prunePass(store)
      await admin.query('VACUUM ANALYZE uploads, outbox')
      const countPruned = await timed(() => store.countEvents())
      return { countBefore, countAfter, deadBefore, deadAfter, migrateMs, fillMs, prune, countPruned }
    } finally { await store.close() }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
    await admin.end()
  }
}

function rows (kind: 'sqlite' | 'postgres', f: Figures): Row[] {
  const n = `${(EVENTS / 1e6).toString()} M events`
  const name = kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'
  const batches = [...f.prune.batchMs].sort((a, b) => a - b)
  const out: Row[] = [
    { id: `${kind}StoreCount`, label: `store, ${name}, ${n}: event counts of a /metrics scrape (service = now, baseline = before)`, unit: 'ms', service: f.countAfter, baseline: f.countBefore },
    { id: `${kind}StoreDeadList`, label: `store, ${name}, ${n}: the dead-event list, 100 (service = now, baseline = before)`, unit: 'ms', service: f.deadAfter, baseline: f.deadBefore },
    { id: `${kind}StoreMigrate`, label: `store, ${name}, ${n}: the migration adding indexes and counts (once)`, unit: 'ms', service: f.migrateMs },
    { id: `${kind}StorePruneBatch`, label: `store, ${name}: one retention batch of ${PRUNE_BATCH} rows, median`, unit: 'ms', service: median(batches) },
    { id: `${kind}StorePruneBatchMax`, label: `store, ${name}: one retention batch, longest${kind === 'sqlite' ? ' (one that ran a WAL checkpoint)' : ''}`, unit: 'ms', service: batches.at(-1) ?? 0 },
    { id: `${kind}StorePrunePass`, label: `store, ${name}: first retention pass, ${f.prune.rows} rows in ${batches.length} batches`, unit: 'ms', service: f.prune.totalMs },
    { id: `${kind}StoreCountPruned`, label: `store, ${name}: event counts after the pass`, unit: 'ms', service: f.countPruned }
  ]
  if (f.scrapeMs !== undefined) out.splice(1, 0, { id: `${kind}StoreScrape`, label: `store, ${name}, ${n}: GET /metrics over HTTP (now)`, unit: 'ms', service: f.scrapeMs })
  return out
}

export async function storeSection (ctx: BenchContext): Promise<Row[]> {
  const sqlite = await sqliteFigures(ctx)
  const out = rows('sqlite', sqlite)
  const postgres = await postgresFigures(ctx)
  if (postgres !== undefined) out.push(...rows('postgres', postgres))
  return out
}
