// Uploads never completed: after the ticket expired, the sweeper confirms a stored image (and sends its webhook),
// expires a ticket never used, rejects bad bytes, and deletes what was posted after a rejection.
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { Sweeper } from '../../src/uploads/sweeper.js'
import { listen } from '../helpers/build.js'
import { postForm } from '../helpers/form.js'
import { html, png } from '../helpers/images.js'
import { complete, createTicket, uploaded, uploadStatus } from '../helpers/upload-flow.js'
import { eventually } from '../helpers/wait.js'
import { startReceiver, WEBHOOK_SECRET, webhookEnv } from '../helpers/webhook-receiver.js'

t.test('a pass settles expired tickets like completion would', async (t) => {
  const receiver = await startReceiver(t)
  const { app, base } = await listen(t, { ...webhookEnv(receiver.url), UPLOAD_GRACE_SECONDS: '30' })

  const stored = await uploaded(base, 'owner-sweep')
  const unused = await createTicket(base, 'owner-sweep')
  const bad = await uploaded(base, 'owner-sweep', html)
  // Rejected at completion, then the still-valid form is posted again: a leftover nobody completes.
  const late = await uploaded(base, 'owner-sweep', html)
  t.equal((await complete(base, late.uploadId)).status, 422)
  t.equal((await fetch(late.publicUrl)).status, 404, 'rejection deleted the object')
  t.equal((await postForm(late.upload, png(), 'image/png')).status, 201, 'the form is still valid until the ticket expires')
  t.equal((await fetch(late.publicUrl)).status, 404, 'a re-post after a rejection is never served (it waits privately at the staging key)')

  t.same(await app.sweeper.sweep(), { confirmed: 0, expired: 0, rejected: 0, cleaned: 0, files: 0 }, 'nothing is due before the tickets expire')
  const justExpired = new Date(Date.parse(stored.expiresAt) + 10_000)
  t.match(await app.sweeper.sweep(justExpired), { confirmed: 0, expired: 0, rejected: 0 }, 'nor within UPLOAD_GRACE_SECONDS after: a transfer that began in time may still land')
  // A pass as it would run once every ticket has expired.
  const later = new Date(Date.parse(stored.expiresAt) + 60_000)
  // (cleaned is not checked: with the clock moved ahead, the key of `bad`, rejected in this pass, is deleted twice)
  t.match(await app.sweeper.sweep(later), { confirmed: 1, expired: 1, rejected: 1 })

  const [delivery] = await receiver.waitFor(1)
  t.match(new Webhook(WEBHOOK_SECRET).verify(delivery?.body ?? '', delivery?.headers ?? {}), { type: 'image.confirmed', data: { uploadId: stored.uploadId, width: 8, height: 8, variants: Array } }, 'the confirmed upload\'s webhook is sent')
  t.equal(await uploadStatus(base, stored.uploadId), 'confirmed')
  t.equal((await fetch(stored.publicUrl)).status, 200)
  t.equal(await uploadStatus(base, unused.uploadId), 'expired')
  t.equal((await complete(base, unused.uploadId)).status, 410, 'completing an expired ticket')
  t.equal(await uploadStatus(base, bad.uploadId), 'rejected', 'bad bytes never completed are rejected')
  t.equal((await fetch(bad.publicUrl)).status, 404, 'and deleted')
  t.equal((await fetch(late.publicUrl)).status, 404, 'the object posted after the rejection is deleted')
  t.equal(await uploadStatus(base, late.uploadId), 'rejected', 'and the upload keeps its status')

  t.same(await app.sweeper.sweep(later), { confirmed: 0, expired: 0, rejected: 0, cleaned: 0, files: 0 }, 'a second pass finds nothing')
  t.equal(receiver.deliveries.length, 1, 'only the confirmed upload sends a webhook')
})

t.test('the sweeper runs every SWEEP_INTERVAL_SECONDS', async (t) => {
  const { base } = await listen(t, { UPLOAD_TTL_SECONDS: '1', UPLOAD_GRACE_SECONDS: '0', SWEEP_INTERVAL_SECONDS: '1' })
  const unused = await createTicket(base, 'owner-interval')
  await eventually(async () => (await uploadStatus(base, unused.uploadId)) === 'expired' || undefined, { what: 'the ticket to be expired by the sweeper' })
  t.pass('expired without a completion call')
})

t.test('uploads the sweeper cannot settle do not hide the ones after them', async (t) => {
  const { app } = await listen(t, { UPLOAD_GRACE_SECONDS: '0' })
  const created = []
  for (let i = 0; i < 130; i++) created.push(await app.uploads.create({ ownerId: `owner-${i}`, contentType: 'image/png' }))
  // Fault injection: checking the first 120 (more than a page) fails, as during a storage outage.
  const failing = new Set(created.slice(0, 120).map((c) => c.uploadId))
  const uploads = {
    settleExpired: async (record: Parameters<typeof app.uploads.settleExpired>[0]) => {
      if (failing.has(record.id)) throw new Error('storage unavailable')
      return await app.uploads.settleExpired(record)
    },
    deleteObjects: app.uploads.deleteObjects.bind(app.uploads)
  }
  const sweeper = new Sweeper(app.config, app.records, app.objects, uploads, app.metrics, app.log)
  const later = new Date(Date.parse(created[0]?.expiresAt ?? '') + 60_000)
  t.match(await sweeper.sweep(later), { expired: 10 }, 'the ten after the failing ones expire in the same pass')
  t.equal((await app.records.getUpload(created[0]?.uploadId ?? ''))?.status, 'pending', 'the failing ones wait for the next pass')
  failing.clear()
  t.match(await sweeper.sweep(later), { expired: 120 }, 'and settle once the fault is gone')
})
