// Replacement follows the order tickets were issued in, not the order of confirmation: an upload abandoned in a
// closed tab and confirmed later by the sweeper never replaces the owner's newer image (issue 16, item 1).
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { AUTH, listen } from '../helpers/build.js'
import { confirmed, uploaded, uploadStatus } from '../helpers/upload-flow.js'
import { eventually } from '../helpers/wait.js'
import { startReceiver, WEBHOOK_SECRET, webhookEnv } from '../helpers/webhook-receiver.js'

interface ConfirmedBody { type: string, data: { uploadId: string, createdAt: string } }

t.test('A posted but never completed, B completed and acknowledged: the sweeper confirms A, and A loses to B', async (t) => {
  const receiver = await startReceiver(t)
  const { app, base } = await listen(t, { ...webhookEnv(receiver.url), UPLOAD_GRACE_SECONDS: '0' })
  const verify = (body: string, headers: Record<string, string>) => new Webhook(WEBHOOK_SECRET).verify(body, headers) as ConfirmedBody

  const a = await uploaded(base, 'owner-ab')
  const b = await confirmed(base, 'owner-ab')
  const [first] = await receiver.waitFor(1)
  t.equal(verify(first?.body ?? '', first?.headers ?? {}).data.uploadId, b.uploadId, 'B\'s image.confirmed is acknowledged')
  await eventually(async () => (await app.records.listEvents('delivered', 10)).length === 1 || undefined, { what: 'B\'s delivery to be recorded' })

  // A's tab was closed: its ticket expires and the sweeper confirms what was posted.
  t.match(await app.sweeper.sweep(new Date(Date.parse(a.expiresAt) + 60_000)), { confirmed: 1 })
  const deliveries = await receiver.waitFor(2)
  const late = verify(deliveries[1]?.body ?? '', deliveries[1]?.headers ?? {})
  t.equal(late.data.uploadId, a.uploadId, 'A\'s image.confirmed is sent (it was confirmed)')
  const recordA = await (await fetch(`${base}/v1/uploads/${a.uploadId}`, { headers: AUTH })).json() as { createdAt: string }
  t.equal(late.data.createdAt, recordA.createdAt, 'and carries when A\'s ticket was issued, so receivers can order')
  t.ok(Date.parse(late.data.createdAt) < Date.parse(verify(deliveries[0]?.body ?? '', deliveries[0]?.headers ?? {}).data.createdAt), 'A\'s ticket is the older one')

  await eventually(async () => (await uploadStatus(base, a.uploadId)) === 'replaced' || undefined, { what: 'A to lose to B once acknowledged' })
  t.equal(await uploadStatus(base, b.uploadId), 'confirmed', 'B stays the current image')
  t.equal((await fetch(b.publicUrl)).status, 200, 'B is still served')
  t.equal((await fetch(a.publicUrl)).status, 404, 'A\'s image is deleted')
  await eventually(async () => (await app.records.listEvents('delivered', 10)).length === 2 || undefined, { what: 'A\'s delivery to be recorded' })
  t.equal(await uploadStatus(base, b.uploadId), 'confirmed', 'still B')
})

t.test('a newer ticket confirmed later replaces the older image once acknowledged (the usual order)', async (t) => {
  const receiver = await startReceiver(t)
  const { base } = await listen(t, webhookEnv(receiver.url))
  const a = await confirmed(base, 'owner-usual')
  await receiver.waitFor(1)
  const b = await confirmed(base, 'owner-usual')
  await receiver.waitFor(2)
  await eventually(async () => (await uploadStatus(base, a.uploadId)) === 'replaced' || undefined, { what: 'A to be replaced' })
  t.equal(await uploadStatus(base, b.uploadId), 'confirmed')
  t.equal((await fetch(a.publicUrl)).status, 404)
  t.equal((await fetch(b.publicUrl)).status, 200)
})
