// Graceful shutdown: app.close() lets a delivery in flight finish, or gives it back to the queue when the receiver
// takes longer than the drain time; either way nothing is lost.
import t from 'tap'
import { listen, scratch } from '../helpers/build.js'
import { confirmed } from '../helpers/upload-flow.js'
import { openSqliteStore } from '../../src/records/sqlite.js'
import { eventually } from '../helpers/wait.js'
import { startReceiver, webhookEnv } from '../helpers/webhook-receiver.js'

async function storedEvents (dataDir: string) {
  const store = openSqliteStore(dataDir)
  try {
    return { pending: await store.listEvents('pending', 10), delivered: await store.listEvents('delivered', 10) }
  } finally { await store.close() }
}

t.test('a delivery in flight at close finishes', async (t) => {
  let release = () => {}
  const held = new Promise<number>((resolve) => { release = () => resolve(200) })
  const receiver = await startReceiver(t, { answer: () => held })
  const dirs = { DATA_DIR: scratch(t), UPLOADS_DIR: scratch(t) }
  const { app, base } = await listen(t, { ...dirs, ...webhookEnv(receiver.url) })
  await confirmed(base, 'owner-close')
  const [delivery] = await receiver.waitFor(1)

  const closed = app.close()
  await eventually(() => app.closing || undefined, { what: 'close() to begin' })
  release()
  await closed

  const { pending, delivered } = await storedEvents(dirs.DATA_DIR)
  t.same(pending, [])
  t.match(delivered, [{ id: delivery?.id, status: 'delivered', attempts: 1 }], 'recorded as delivered before the store closed')
})

t.test('a delivery still in flight after the drain time goes back to the queue, then is delivered', async (t) => {
  const receiver = await startReceiver(t, { answer: () => new Promise<number>(() => {}) })
  const dirs = { DATA_DIR: scratch(t), UPLOADS_DIR: scratch(t) }
  const env = { ...dirs, ...webhookEnv(receiver.url, { WEBHOOK_TIMEOUT_MS: '30000' }) }
  const first = await listen(t, env, { webhooks: { drainMs: 50 } })
  await confirmed(first.base, 'owner-slow')
  const [held] = await receiver.waitFor(1)
  await first.app.close()

  const { pending } = await storedEvents(dirs.DATA_DIR)
  t.match(pending, [{ id: held?.id, status: 'pending', attempts: 0, leaseUntil: null }], 'released: no attempt counted, no lease left')

  receiver.answer = () => 204
  const second = await listen(t, env)
  const deliveries = await receiver.waitFor(2)
  t.equal(deliveries[1]?.id, held?.id, 'the same event, the same webhook-id')
  await eventually(async () => (await second.app.records.getEvent(held?.id ?? ''))?.status === 'delivered' || undefined, { what: 'delivered' })
})

t.test('a stop() while start() is still loading its HTTP client: the dispatcher stays stopped', async (t) => {
  const receiver = await startReceiver(t)
  const { app, base } = await listen(t, { DATA_DIR: scratch(t), UPLOADS_DIR: scratch(t), ...webhookEnv(receiver.url) })
  await app.dispatcher.stop()
  const starting = app.dispatcher.start()
  await app.dispatcher.stop()
  await starting
  await confirmed(base, 'owner-stopped')
  // The poll interval in tests is far shorter than this: a running dispatcher would have delivered by now.
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(receiver.deliveries.length, 0, 'nothing delivered')
  const [pending] = await app.records.listEvents('pending', 10)
  t.equal(pending?.status, 'pending', 'the event waits for the next start')
})

t.test('a start() while a stop() drains keeps its own connection pool', async (t) => {
  let release = () => {}
  const held = new Promise<number>((resolve) => { release = () => resolve(204) })
  const receiver = await startReceiver(t, { answer: (_d, n) => (n === 0 ? held : 204) })
  const { app, base } = await listen(t, { DATA_DIR: scratch(t), UPLOADS_DIR: scratch(t), ...webhookEnv(receiver.url) }, { webhooks: { drainMs: 10_000 } })
  await confirmed(base, 'owner-first')
  await receiver.waitFor(1)
  const stopping = app.dispatcher.stop()
  await app.dispatcher.start()
  release()
  await stopping
  const { uploadId } = await confirmed(base, 'owner-second')
  const [second] = await receiver.waitFor(1, (d) => d.body.includes(uploadId), 10_000)
  t.ok(second, 'the restarted dispatcher delivers: the drained stop closed only its own pool')
})
