// The database goes away under a running app (a TCP proxy in front of PostgreSQL is cut, then stalled):
// readiness answers 503 and the process survives; when the database returns, readiness and requests recover.
import { Writable } from 'node:stream'
import t from 'tap'
import type { App } from '../../src/app.js'
import { AUTH, build } from '../helpers/build.js'
import { postgresUnavailable, TEST_DATABASE_URL, testSchema, withSchema } from '../helpers/postgres.js'
import { startTcpProxy } from '../helpers/tcp-proxy.js'
import { eventually } from '../helpers/wait.js'

const skip = await postgresUnavailable()

const ready = async (app: App) => {
  const res = await app.inject('/ready')
  return { status: res.statusCode, body: res.json() as { status: string, checks: Record<string, string> } }
}
const createTicket = async (app: App) => await app.inject({ method: 'POST', url: '/v1/uploads', headers: AUTH, payload: { ownerId: 'user-1', contentType: 'image/png' } })

t.test('readiness follows the database: 503 while it is unreachable, 200 once it is back', { skip }, async (t) => {
  const { schema } = await testSchema(t)
  const target = new URL(TEST_DATABASE_URL)
  const proxy = await startTcpProxy(t, { host: target.hostname, port: Number(target.port || 5432) })
  const viaProxy = new URL(TEST_DATABASE_URL)
  viaProxy.port = String(proxy.port)
  const logs: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { logs.push(chunk.toString()); done() } })
  const app = await build(t, { DATABASE_URL: withSchema(viaProxy.toString(), schema), DATABASE_CONNECT_TIMEOUT_MS: '1000', DATABASE_POOL_MAX: '4' }, { logger: { level: 'warn', stream } })
  t.equal(app.records.kind, 'postgres', 'DATABASE_URL selects PostgreSQL')

  t.same(await ready(app), { status: 200, body: { status: 'ok', checks: { storage: 'ok', storageWrites: 'ok', database: 'ok', databaseWrites: 'ok' } } })
  const before = await createTicket(app)
  t.equal(before.statusCode, 201)

  await proxy.cut()
  // The pool's idle connection breaks while nobody uses it: an 'error' event that must not crash the process.
  await eventually(() => logs.some((l) => l.includes('PostgreSQL connection lost')) || undefined, { what: 'the pool to notice the lost connection' })
  t.match(await ready(app), { status: 503, body: { status: 'unavailable', checks: { storage: 'ok', database: 'failed' } } }, 'cut: connections reset, new ones refused')
  const during = await createTicket(app)
  t.ok(during.statusCode >= 500, 'a request that needs the database fails')
  t.notMatch(during.body, /ECONN|postgres|5432/i, 'without echoing internals')

  await proxy.restore()
  await eventually(async () => (await ready(app)).status === 200 || undefined, { what: 'readiness to recover after the cut', timeoutMs: 10_000, intervalMs: 100 })
  t.equal((await createTicket(app)).statusCode, 201, 'requests work again')
  const { uploadId } = before.json() as { uploadId: string }
  t.equal((await app.inject({ url: `/v1/uploads/${uploadId}`, headers: AUTH })).json().status, 'pending', 'what was stored before is still there')

  proxy.stall()
  const stalled = await ready(app)
  t.same(stalled.body.checks.database, 'failed', 'stall: a connection that stops answering fails the probe')
  t.equal(stalled.status, 503)
  await proxy.restore()
  await eventually(async () => (await ready(app)).status === 200 || undefined, { what: 'readiness to recover after the stall', timeoutMs: 10_000, intervalMs: 100 })
  t.equal((await createTicket(app)).statusCode, 201, 'the pool replaced the stalled connections')
})
