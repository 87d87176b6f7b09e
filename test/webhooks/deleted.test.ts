// DELETE of a confirmed upload: an image.confirmed not yet delivered is never delivered (its URL is dead), and
// image.deleted is sent instead (CONTRACT.md, "Webhook"; issue 16, item 2).
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { AUTH, listen } from '../helpers/build.js'
import { confirmed, listEvents } from '../helpers/upload-flow.js'
import { eventually } from '../helpers/wait.js'
import { startReceiver, WEBHOOK_SECRET, webhookEnv } from '../helpers/webhook-receiver.js'

const types = (bodies: Array<{ body: string }>) => bodies.map((d) => (JSON.parse(d.body) as { type: string }).type)

t.test('a pending image.confirmed is cancelled by DELETE; image.deleted is delivered', async (t) => {
  const receiver = await startReceiver(t)
  const { app, base } = await listen(t, webhookEnv(receiver.url))
  // The receiver is unreachable for now: nothing is sent while the dispatcher is stopped.
  await app.dispatcher.stop()
  const upload = await confirmed(base, 'owner-del')
  const [pending] = await listEvents(base, 'pending')
  t.match(pending, { uploadId: upload.uploadId, type: 'image.confirmed' }, 'the confirmation waits in the outbox')

  t.equal((await fetch(`${base}/v1/uploads/${upload.uploadId}`, { method: 'DELETE', headers: AUTH })).status, 204)
  const after = await listEvents(base, 'pending')
  t.same(after.map((e) => e.type), ['image.deleted'], 'the confirmation is gone from the outbox, image.deleted is queued')
  const metrics = await (await fetch(`${base}/metrics`)).text()
  t.match(metrics, /webhook_outbox_events\{status="pending"\} 1\n/, 'the metrics count what will be sent')

  await app.dispatcher.start()
  const [delivery] = await receiver.waitFor(1)
  const body = new Webhook(WEBHOOK_SECRET).verify(delivery?.body ?? '', delivery?.headers ?? {})
  t.same(Object.keys(body as object).sort(), ['data', 'timestamp', 'type'])
  t.match(body, { type: 'image.deleted', timestamp: String, data: { uploadId: upload.uploadId, ownerId: 'owner-del', key: upload.key, url: upload.publicUrl } })
  t.same(Object.keys((body as { data: object }).data).sort(), ['key', 'ownerId', 'uploadId', 'url'])
  await eventually(async () => (await listEvents(base, 'delivered')).length === 1 || undefined, { what: 'the delivery to be recorded' })
  t.same(types(receiver.deliveries), ['image.deleted'], 'image.confirmed was never sent')
  t.same(await listEvents(base, 'pending'), [])
  t.equal((await fetch(`${base}/v1/uploads/${upload.uploadId}`, { method: 'DELETE', headers: AUTH })).status, 204, 'a repeat DELETE')
  t.same(await listEvents(base, 'pending'), [], 'queues nothing more')
})

t.test('a dead image.confirmed of a deleted upload cannot be re-driven', async (t) => {
  const receiver = await startReceiver(t, { answer: () => 500 })
  const { base } = await listen(t, webhookEnv(receiver.url, { WEBHOOK_MAX_ATTEMPTS: '1' }))
  const upload = await confirmed(base, 'owner-dead')
  const [dead] = await eventually(async () => { const d = await listEvents(base, 'dead'); return d.length > 0 ? d : undefined }, { what: 'the event to die' })
  receiver.answer = () => 204
  t.equal((await fetch(`${base}/v1/uploads/${upload.uploadId}`, { method: 'DELETE', headers: AUTH })).status, 204)
  t.same(await listEvents(base, 'dead'), [], 'no longer listed as dead')
  const redrive = await fetch(`${base}/v1/webhooks/events/${dead?.id ?? ''}/redrive`, { method: 'POST', headers: AUTH })
  t.equal(redrive.status, 404, 'a re-drive finds nothing to send')
  await receiver.waitFor(2)
  t.same(types(receiver.deliveries), ['image.confirmed', 'image.deleted'], 'the failed attempt, then image.deleted only')
})

t.test('DELETE of an upload never confirmed sends nothing', async (t) => {
  const receiver = await startReceiver(t)
  const { app, base } = await listen(t, webhookEnv(receiver.url))
  const ticket = await app.uploads.create({ ownerId: 'owner-p', contentType: 'image/png' })
  t.equal((await fetch(`${base}/v1/uploads/${ticket.uploadId}`, { method: 'DELETE', headers: AUTH })).status, 204)
  t.same(await listEvents(base, 'pending'), [])
  t.same(await app.records.countEvents(), { pending: 0, delivered: 0, dead: 0 })
})
