// A buildApp that fails after the record store opened closes what it opened: the SQLite file (opened exclusively)
// is free for the next attempt in the same process (issue 16, item 14).
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { LocalStorage } from '../src/objects/local.js'
import { scratch, TOKEN } from './helpers/build.js'
import { freePort } from './helpers/webhook-receiver.js'

t.test('a start that fails at the S3 self-check (after the store opened) leaves the SQLite file free', async (t) => {
  const dir = scratch(t)
  const common = { SERVICE_TOKENS: TOKEN, DATA_DIR: join(dir, 'data'), UPLOADS_DIR: join(dir, 'uploads'), SWEEP_INTERVAL_SECONDS: '0' }
  // Nothing listens there: the self-check fails, after the store was opened.
  const endpoint = `http://127.0.0.1:${await freePort()}`
  const production = loadConfig({
    ...common, ENVIRONMENT: 'production', AWS_S3_BUCKET: 'bucket-1', AWS_S3_ENDPOINT: endpoint, AWS_S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: 'key', AWS_SECRET_ACCESS_KEY: 'secret'
  })
  await t.rejects(buildApp(production), /S3|ECONNREFUSED|connect/i, 'the first attempt fails')
  const started = Date.now()
  const app = await buildApp(loadConfig({ ...common, ENVIRONMENT: 'development' }))
  t.teardown(() => app.close())
  t.ok(Date.now() - started < 4000, 'the second opens the file at once (no wait for a lock)')
  await app.ready()
  t.equal((await app.inject({ url: '/ready' })).statusCode, 200, 'and works')
})

t.test('a failure later in buildApp (a route plugin) closes the store too', async (t) => {
  const dir = scratch(t)
  const config = loadConfig({ ENVIRONMENT: 'development', SERVICE_TOKENS: TOKEN, DATA_DIR: join(dir, 'data'), UPLOADS_DIR: join(dir, 'uploads'), SWEEP_INTERVAL_SECONDS: '0' })
  // The object backend's routes fail to register: the store opened long before.
  const broken = { objects: new LocalStorage(config), browserRoutes: async () => { throw new Error('a route failed to register') } }
  await t.rejects(buildApp(config, { objects: broken }), /a route failed to register/, 'fails while registering routes')
  const app = await buildApp(config)
  t.teardown(() => app.close())
  await app.ready()
  t.equal((await app.inject({ url: '/ready' })).statusCode, 200)
})
