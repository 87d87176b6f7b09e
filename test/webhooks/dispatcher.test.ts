// Delivery against a real receiver: retries with the same webhook-id, one event per confirmation, replacement only
// after the acknowledgement, dead events listed and re-driven.
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { AUTH, listen, scratch } from '../helpers/build.js'
import { postgresUnavailable, testSchema } from '../helpers/postgres.js'
import { complete, confirmed, listEvents, uploaded, uploadStatus } from '../helpers/upload-flow.js'
import { eventually } from '../helpers/wait.js'
import { startReceiver, WEBHOOK_SECRET, webhookEnv, type Delivery } from '../helpers/webhook-receiver.js'

const uploadIdOf = (d: Delivery) => (JSON.parse(d.body) as { data: { uploadId: string } }).data.uploadId

async function deliveredEvent (base: string, uploadId: string) {
  return await eventually(async () => (await listEvents(base, 'delivered')).find((e) => e.uploadId === uploadId), { what: `the event of ${uploadId} delivered` })
}

t.test('a receiver answering 500 at first gets the event later, with the same webhook-id, verifiable', async (t) => {
  const receiver = await startReceiver(t, { answer: (_d, n) => (n < 2 ? 500 : 200) })
  const { base } = await listen(t, webhookEnv(receiver.url))
  const ticket = await confirmed(base, 'owner-retry')

  const deliveries = await receiver.waitFor(3)
  t.equal(new Set(deliveries.map((d) => d.id)).size, 1, 'one webhook-id on every attempt')
  t.match(deliveries[0]?.id, /^msg_/)
  for (const d of deliveries) {
    const payload = new Webhook(WEBHOOK_SECRET).verify(d.body, d.headers)
    t.matchOnly(payload, {
      type: 'image.confirmed',
      timestamp: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
      data: {
        uploadId: ticket.uploadId,
        ownerId: 'owner-retry',
        key: ticket.key,
        url: ticket.publicUrl,
        contentType: 'image/png',
        size: Number,
        width: 8,
        height: 8,
        animated: false,
        placeholder: /^[A-Za-z0-9+/]+=*$/,
        variants: [64, 128, 256, 512].map((size) => ({ size, width: 8, height: 8, contentType: 'image/webp', url: ticket.publicUrl.replace(/\.png$/, `-${size}.webp`) })),
        createdAt: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
      }
    }, 'the signature verifies with standardwebhooks')
    t.equal(d.headers['content-type'], 'application/json')
  }
  t.equal(new Set(deliveries.map((d) => d.body)).size, 1, 'the same bytes every attempt')

  const event = await deliveredEvent(base, ticket.uploadId)
  t.equal(event.id, deliveries[0]?.id)
  t.equal(event.attempts, 3)
  const metrics = await (await fetch(`${base}/metrics`)).text()
  t.match(metrics, /webhook_deliveries_total\{result="failed"\} 2/)
  t.match(metrics, /webhook_deliveries_total\{result="delivered"\} 1/)
  t.match(metrics, /webhook_delivery_seconds_count 1/)
})

t.test('duplicate completions produce one event', async (t) => {
  const receiver = await startReceiver(t)
  const { base } = await listen(t, webhookEnv(receiver.url))
  const ticket = await uploaded(base, 'owner-dup')
  const answers = await Promise.all(Array.from({ length: 5 }, async () => await complete(base, ticket.uploadId)))
  answers.push(await complete(base, ticket.uploadId))
  t.same(answers.map((r) => r.status), [200, 200, 200, 200, 200, 200])
  t.equal(new Set(await Promise.all(answers.map(async (r) => await r.text()))).size, 1, 'the same answer every time')

  await deliveredEvent(base, ticket.uploadId)
  const events = (await Promise.all(['pending', 'delivered', 'dead'].map(async (s) => await listEvents(base, s)))).flat()
  t.equal(events.filter((e) => e.uploadId === ticket.uploadId).length, 1, 'one event stored')
  t.equal(receiver.deliveries.filter((d) => uploadIdOf(d) === ticket.uploadId).length, 1, 'one delivery')
})

t.test('replacement: the older image is deleted only after the newer one\'s webhook is acknowledged', async (t) => {
  const receiver = await startReceiver(t)
  const { base } = await listen(t, webhookEnv(receiver.url))
  const other = await confirmed(base, 'owner-other')
  const older = await confirmed(base, 'owner-replace')
  await deliveredEvent(base, older.uploadId)

  let release = () => {}
  const held = new Promise<number>((resolve) => { release = () => resolve(200) })
  receiver.answer = (d) => (uploadIdOf(d) === older.uploadId || uploadIdOf(d) === other.uploadId ? 204 : held)
  const newer = await confirmed(base, 'owner-replace')
  await receiver.waitFor(1, (d) => uploadIdOf(d) === newer.uploadId)

  t.equal((await fetch(older.publicUrl)).status, 200, 'while the answer is held, the old image is still served')
  t.equal(await uploadStatus(base, older.uploadId), 'confirmed')
  release()

  await eventually(async () => (await uploadStatus(base, older.uploadId)) === 'replaced' || undefined, { what: 'the older upload replaced' })
  t.equal((await fetch(older.publicUrl)).status, 404, 'the old image is gone after the acknowledgement')
  t.equal((await fetch(newer.publicUrl)).status, 200, 'the new image stays')
  t.equal(await uploadStatus(base, newer.uploadId), 'confirmed')
  t.equal(await uploadStatus(base, other.uploadId), 'confirmed', 'other owners are untouched')
  t.equal((await fetch(other.publicUrl)).status, 200)
})

t.test('after the retry limit an event is dead, listed, and can be re-driven', async (t) => {
  const receiver = await startReceiver(t, { answer: () => 503 })
  const { base } = await listen(t, webhookEnv(receiver.url, { WEBHOOK_MAX_ATTEMPTS: '3' }))
  const ticket = await confirmed(base, 'owner-dead')

  const [dead] = await eventually(async () => {
    const events = await listEvents(base, 'dead')
    return events.length > 0 ? events : undefined
  }, { what: 'a dead event' })
  t.match(dead, { uploadId: ticket.uploadId, type: 'image.confirmed', status: 'dead', attempts: 3, lastError: 'HTTP 503', deliveredAt: null })
  t.equal(receiver.deliveries.length, 3, 'no attempt after the limit')
  t.match(await (await fetch(`${base}/metrics`)).text(), /webhook_deliveries_total\{result="dead"\} 1/)
  const id = dead?.id ?? ''

  const redrive = (eventId: string, headers: Record<string, string> = AUTH) => fetch(`${base}/v1/webhooks/events/${eventId}/redrive`, { method: 'POST', headers })
  t.equal((await redrive(id, {})).status, 401, 'internal: needs a service token')
  t.equal((await fetch(`${base}/v1/webhooks/events?status=dead`)).status, 401)
  const unknown = await redrive('msg_AAAAAAAAAAAAAAAAAAAAAA')
  t.equal(unknown.status, 404)
  t.match(await unknown.json(), { code: 'EVENT_NOT_FOUND' })
  t.equal((await redrive('not-an-id')).status, 400)
  t.equal((await fetch(`${base}/v1/webhooks/events?status=lost`, { headers: AUTH })).status, 400)

  receiver.answer = () => 200
  const res = await redrive(id)
  t.equal(res.status, 200)
  t.match(await res.json(), { id, status: 'pending', attempts: 0 })

  const event = await deliveredEvent(base, ticket.uploadId)
  t.equal(event.id, id)
  t.equal(event.attempts, 1, 'attempts count again from the re-drive')
  t.same((await listEvents(base, 'dead')), [], 'no longer dead')
  t.equal(receiver.deliveries.length, 4)
  t.equal(new Set(receiver.deliveries.map((d) => d.id)).size, 1, 'the same webhook-id after the re-drive')
  const last = receiver.deliveries[3]
  t.ok(last !== undefined && new Webhook(WEBHOOK_SECRET).verify(last.body, last.headers))
  t.equal((await redrive(id)).status, 404, 'a delivered event is not re-driven')
})

t.test('without WEBHOOK_URL events stay pending, and are sent once it is set', async (t) => {
  const dirs = { DATA_DIR: scratch(t), UPLOADS_DIR: scratch(t) }
  const first = await listen(t, dirs)
  const ticket = await confirmed(first.base, 'owner-later')
  const [pending] = await listEvents(first.base, 'pending')
  t.match(pending, { uploadId: ticket.uploadId, attempts: 0 })
  await first.app.close()

  const receiver = await startReceiver(t)
  const second = await listen(t, { ...dirs, ...webhookEnv(receiver.url) })
  const [delivery] = await receiver.waitFor(1)
  t.equal(delivery?.id, pending?.id)
  await deliveredEvent(second.base, ticket.uploadId)
})

t.test('a delivery that outlives its lease keeps its claim: another replica does not send the event again', { skip: await postgresUnavailable() }, async (t) => {
  const receiver = await startReceiver(t)
  // Two replicas share a store as replicas do: PostgreSQL (an SQLite file belongs to one process).
  const dirs = { DATABASE_URL: (await testSchema(t)).url, UPLOADS_DIR: scratch(t) }
  // A 100 ms attempt timeout makes the lease 1.2 s; the replacement after the acknowledgement takes 3 s (a slow
  // bucket, injected), so the lease would lapse twice over while this replica still holds the event.
  const env = { ...dirs, ...webhookEnv(receiver.url, { WEBHOOK_TIMEOUT_MS: '100' }) }
  const a = await listen(t, env)
  const replaceOlder = a.app.uploads.replaceOlder.bind(a.app.uploads)
  a.app.uploads.replaceOlder = async (uploadId) => {
    await new Promise((resolve) => setTimeout(resolve, 3000))
    return await replaceOlder(uploadId)
  }
  await listen(t, env, { webhooks: { pollMs: 50 } })

  const ticket = await confirmed(a.base, 'owner-lease')
  await receiver.waitFor(1)
  const event = await eventually(async () => (await listEvents(a.base, 'delivered')).find((e) => e.uploadId === ticket.uploadId), { what: 'the event recorded as delivered', timeoutMs: 10_000 })
  t.equal(event.attempts, 1)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(receiver.deliveries.filter((d) => uploadIdOf(d) === ticket.uploadId).length, 1, 'sent once: the other replica never claimed it')
})
