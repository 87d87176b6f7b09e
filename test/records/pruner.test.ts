// Retention (issue 16, item 8): records that ended more than RETENTION_DAYS ago are removed in batches, off the
// request path; the owner's current image, pending uploads and undelivered webhooks stay.
import t from 'tap'
import { createMetrics } from '../../src/metrics.js'
import { Pruner } from '../../src/records/pruner.js'
import type { RecordStore } from '../../src/records/record-store.js'
import { AUTH, listen } from '../helpers/build.js'
import { confirmed, createTicket, uploadStatus } from '../helpers/upload-flow.js'
import { eventually } from '../helpers/wait.js'
import { startReceiver, webhookEnv } from '../helpers/webhook-receiver.js'

const DAY_MS = 86_400_000

t.test('a pass removes uploads that ended and delivered events older than RETENTION_DAYS; the current image stays', async (t) => {
  const receiver = await startReceiver(t)
  const { app, base } = await listen(t, { ...webhookEnv(receiver.url), UPLOAD_GRACE_SECONDS: '0', RETENTION_DAYS: '2' })
  const old = await confirmed(base, 'owner-kept')
  const current = await confirmed(base, 'owner-kept')
  const unused = await createTicket(base, 'owner-kept')
  const removed = await confirmed(base, 'owner-gone')
  await eventually(async () => (await uploadStatus(base, old.uploadId)) === 'replaced' || undefined, { what: 'the older image to be replaced' })
  await eventually(async () => (await app.records.countEvents()).delivered === 3 || undefined, { what: 'the confirmations to be delivered' })
  t.equal((await fetch(`${base}/v1/uploads/${removed.uploadId}`, { method: 'DELETE', headers: AUTH })).status, 204)
  await eventually(async () => (await app.records.countEvents()).delivered === 4 || undefined, { what: 'every event to be delivered' })
  // The tickets expire: the sweeper expires the unused one and cleans what ended while its form was valid.
  const expired = new Date(Date.parse(unused.expiresAt) + 60_000)
  t.match(await app.sweeper.sweep(expired), { expired: 1 })

  t.same(await app.pruner.prune(new Date(expired.getTime() + DAY_MS)), { events: 0, uploads: 0 }, 'nothing is removed within RETENTION_DAYS')
  t.same(await app.pruner.prune(new Date(expired.getTime() + 3 * DAY_MS)), { events: 4, uploads: 3 }, 'then the events, and the uploads that ended')
  for (const id of [old.uploadId, unused.uploadId, removed.uploadId]) {
    t.equal((await fetch(`${base}/v1/uploads/${id}`, { headers: AUTH })).status, 404, 'an upload removed is unknown')
  }
  t.equal(await uploadStatus(base, current.uploadId), 'confirmed', 'the owner\'s image stays, however old')
  t.equal((await fetch(current.publicUrl)).status, 200)
  t.match(await (await fetch(`${base}/metrics`)).text(), /image_store_pruned_rows_total\{table="uploads"\} 3/)
})

t.test('an event not delivered keeps itself and its upload', async (t) => {
  const receiver = await startReceiver(t, { answer: () => 500 })
  const { app, base } = await listen(t, { ...webhookEnv(receiver.url), RETENTION_DAYS: '1' })
  const image = await confirmed(base, 'owner-waiting')
  t.equal((await fetch(`${base}/v1/uploads/${image.uploadId}`, { method: 'DELETE', headers: AUTH })).status, 204)
  const later = new Date(Date.now() + 30 * DAY_MS)
  await app.sweeper.sweep(later)
  t.same(await app.pruner.prune(later), { events: 0, uploads: 0 })
  t.equal(await uploadStatus(base, image.uploadId), 'deleted', 'its image.deleted is still to be sent')
  t.match(await app.records.countEvents(), { pending: 1 })
})

t.test('a batch at a time, with a turn of the event loop between batches; stop() ends a pass after the batch at hand', async (t) => {
  const calls: string[] = []
  let left = 7
  // A store of seven old events and no uploads; each batch lets a turn be seen if one comes before the next batch.
  const store: Pick<RecordStore, 'pruneEvents' | 'pruneUploads'> = {
    pruneEvents: async (_before, limit, after) => {
      calls.push(`events ${limit} after ${after?.id ?? 'start'}`)
      setImmediate(() => calls.push('turn'))
      const removed = Math.min(limit, left)
      left -= removed
      return { removed, resume: { at: new Date(0), id: String(7 - left) }, done: removed < limit }
    },
    pruneUploads: async () => { calls.push('uploads'); return { removed: 0, done: true } }
  }
  const metrics = createMetrics()
  const log = { info: () => {}, error: () => {} } as unknown as ConstructorParameters<typeof Pruner>[3]
  const pruner = new Pruner({ retentionDays: 30, sweepIntervalSeconds: 60 }, store, metrics, log, 3)
  t.same(await pruner.prune(), { events: 7, uploads: 0 })
  t.same(calls.slice(0, 5), ['events 3 after start', 'turn', 'events 3 after 3', 'turn', 'events 3 after 6'], 'each batch after where the last ended; other work runs between them')
  t.same(calls.filter((c) => c !== 'turn'), ['events 3 after start', 'events 3 after 3', 'events 3 after 6', 'uploads'], 'until a batch is done; then the uploads')

  // Full batches for ever, until stopped.
  let batches = 0
  store.pruneEvents = async (_before, limit) => {
    if (++batches === 2) pruner.stop().catch(() => {})
    return { removed: limit, done: false }
  }
  calls.length = 0
  t.same(await pruner.prune(), { events: 6, uploads: 0 }, 'stopped after the second batch')
  t.equal(batches, 2)
  t.notOk(calls.includes('uploads'), 'and no uploads are pruned after a stop')
})

t.test('the pruner runs every SWEEP_INTERVAL_SECONDS', async (t) => {
  const { app } = await listen(t, { SWEEP_INTERVAL_SECONDS: '1', RETENTION_DAYS: '1' })
  // An upload that expired ten days ago, as a store left running that long would hold.
  const at = Date.now() - 10 * DAY_MS
  await app.records.createUpload({ id: 'upl_long_ago', ownerId: 'o', key: 'profile-images/long-ago.png', contentType: 'image/png', maxBytes: 10, declaredSize: null, createdAt: new Date(at), expiresAt: new Date(at + 600_000) })
  await app.records.transition('upl_long_ago', ['pending'], 'expired', new Date(at + 900_000))
  // Its leftovers were cleaned then too (the sweeper's touch: same status, cleaned_at set).
  await app.records.transition('upl_long_ago', ['expired'], 'expired', new Date(at + 900_000))
  await eventually(async () => (await app.records.getUpload('upl_long_ago')) === undefined || undefined, { what: 'the old upload to be removed' })
  t.pass('removed without a call')
})
