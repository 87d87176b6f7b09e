// The RecordStore contract: every implementation (sqlite.ts, postgres.ts) must pass this suite unchanged.
// `setup(t)` prepares a fresh, empty database for one test and returns an opener; every store opened with it
// shares that database (a reopen after close, or a second replica), and is closed when the test ends.
// `replicas: false` (SQLite: one process per file, opened exclusively): the tests of two replicas run with one
// store playing both parts, and a second view of the database is the store closed and opened again.
import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { NewEvent, NewUpload, OutboxEvent, PruneBatch, RecordStore, UploadRecord } from '../../src/records/record-store.js'

export type StoreSetup = (t: Test) => Promise<() => Promise<RecordStore>>

const T0 = Date.parse('2030-01-01T00:00:00.123Z')
const at = (ms: number) => new Date(T0 + ms)
const LEASE = 30_000

let seq = 0
function newUpload (over: Partial<NewUpload> = {}): NewUpload {
  const n = `${++seq}-${randomBytes(4).toString('hex')}`
  return {
    id: `upl_${n}`,
    ownerId: 'owner-1',
    key: `profile-images/${n}.png`,
    contentType: 'image/png',
    maxBytes: 5 * 1024 * 1024,
    declaredSize: 1234,
    createdAt: at(0),
    expiresAt: at(600_000),
    ...over
  }
}

const eventFor = (createdAt: Date) => (r: UploadRecord): NewEvent => ({
  id: `msg_${r.id}`,
  uploadId: r.id,
  type: 'image.confirmed',
  payload: JSON.stringify({ type: 'image.confirmed', data: { uploadId: r.id, size: r.size } }),
  createdAt
})

/** A confirmed upload and its pending event, due at `due`. */
async function seedEvent (store: RecordStore, due: Date): Promise<OutboxEvent> {
  const u = newUpload()
  await store.createUpload(u)
  await store.confirmUpload(u.id, 100, due, eventFor(due))
  const e = await store.getEvent(`msg_${u.id}`)
  if (e === undefined) throw new Error('seeded event missing')
  return e
}

const ids = (events: Array<{ id: string }>) => events.map((e) => e.id)
const removed = async (batch: Promise<PruneBatch>) => (await batch).removed

export function storeContract (t: Test, setup: StoreSetup, opts: { replicas: boolean }): void {
  /**
   * A fresh database and one store on it (`first`); `open` gives further stores on the same database, `replica`
   * another replica next to a store, `another` a second view of what a store committed.
   */
  async function fresh (t: Test) {
    const opener = await setup(t)
    const open = async () => {
      const store = await opener()
      let closed = false
      t.teardown(async () => { if (!closed) await store.close() })
      return { store, close: async () => { closed = true; await store.close() } }
    }
    const first = await open()
    const replica = async (store: RecordStore) => (opts.replicas ? (await open()).store : store)
    const another = async (h: typeof first) => {
      if (!opts.replicas) await h.close()
      return (await open()).store
    }
    return { store: first.store, first, open, replica, another }
  }

  t.test('createUpload → getUpload round-trips every field', async (t) => {
    const { store } = await fresh(t)
    const u = newUpload({ declaredSize: null, maxBytes: 6_000_000_000 })
    await store.createUpload(u)
    t.same(await store.getUpload(u.id), {
      ...u, status: 'pending', size: null, image: null, confirmedAt: null, updatedAt: u.createdAt
    })
    t.equal(await store.getUpload('upl_unknown'), undefined, 'unknown id')
  })

  t.test('concurrent createUpload calls are each durable when they resolve; one duplicate fails alone', async (t) => {
    const { store, first, another } = await fresh(t)
    const existing = newUpload()
    await store.createUpload(existing)
    const batch = Array.from({ length: 50 }, () => newUpload())
    const results = await Promise.allSettled([
      ...batch.map((u) => store.createUpload(u)),
      store.createUpload({ ...newUpload(), id: existing.id })
    ])
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 50, 'every good insert resolves')
    t.equal(results.at(-1)?.status, 'rejected', 'the duplicate id is refused')
    const other = await another(first)
    for (const u of batch) t.equal((await other.getUpload(u.id))?.status, 'pending', 'visible to another connection')
    t.equal((await other.getUpload(existing.id))?.key, existing.key, 'the original row is untouched')
  })

  t.test('close commits queued inserts first', async (t) => {
    const { first, open } = await fresh(t)
    const u = newUpload()
    const created = first.store.createUpload(u)
    await first.close()
    await created
    const again = (await open()).store
    t.equal((await again.getUpload(u.id))?.status, 'pending')
  })

  t.test('confirmUpload: pending → confirmed with its event in one go; a repeat writes no second event', async (t) => {
    const { store } = await fresh(t)
    const u = newUpload()
    await store.createUpload(u)
    let seen: UploadRecord | undefined
    const image = {
      width: 640,
      height: 480,
      animated: true,
      placeholder: 'H/gBBYBgym5ox6hFlIbLpqqgmq+3',
      variants: [{ size: 64, width: 64, height: 64, contentType: 'image/webp', key: 'profile-images/x-64.webp' }]
    }
    const first = await store.confirmUpload(u.id, 777, at(1000), (r) => { seen = r; return eventFor(at(1001))(r) }, image)
    t.equal(first?.changed, true)
    t.same(first?.record, { ...u, status: 'confirmed', size: 777, image, confirmedAt: at(1000), updatedAt: at(1000) }, 'what was published round-trips')
    t.same(await store.getUpload(u.id), first?.record, 'and reads back')
    t.same(seen, first?.record, 'the event is built from the confirmed record')
    t.same(await store.getEvent(`msg_${u.id}`), {
      id: `msg_${u.id}`,
      uploadId: u.id,
      type: 'image.confirmed',
      payload: JSON.stringify({ type: 'image.confirmed', data: { uploadId: u.id, size: 777 } }),
      status: 'pending',
      attempts: 0,
      nextAttemptAt: at(1001),
      leaseUntil: null,
      lastError: null,
      createdAt: at(1001),
      deliveredAt: null
    })

    let called = false
    const repeat = await store.confirmUpload(u.id, 999, at(5000), (r) => { called = true; return eventFor(at(5000))(r) })
    t.equal(repeat?.changed, false)
    t.same(repeat?.record, first?.record, 'the record is unchanged')
    t.notOk(called, 'no second event is built')
    t.same(await store.countEvents(), { pending: 1, delivered: 0, dead: 0 })
    t.equal(await store.confirmUpload('upl_unknown', 1, at(0), eventFor(at(0))), undefined, 'unknown id')
  })

  t.test('concurrent confirmations of one upload write exactly one event', async (t) => {
    const { store, replica } = await fresh(t)
    const other = await replica(store)
    const u = newUpload()
    await store.createUpload(u)
    let n = 0
    const make = (r: UploadRecord): NewEvent => ({ ...eventFor(at(0))(r), id: `msg_${++n}_${r.id}` })
    const results = await Promise.all([
      store.confirmUpload(u.id, 10, at(1), make), other.confirmUpload(u.id, 10, at(2), make),
      store.confirmUpload(u.id, 10, at(3), make), other.confirmUpload(u.id, 10, at(4), make)
    ])
    t.equal(results.filter((r) => r?.changed).length, 1, 'one confirmation wins')
    t.ok(results.every((r) => r?.record.status === 'confirmed'))
    t.same(await store.countEvents(), { pending: 1, delivered: 0, dead: 0 })
  })

  t.test('confirmUpload does not confirm an upload that left pending', async (t) => {
    const { store } = await fresh(t)
    const u = newUpload()
    await store.createUpload(u)
    await store.transition(u.id, ['pending'], 'rejected', at(10))
    const result = await store.confirmUpload(u.id, 5, at(20), eventFor(at(20)))
    t.equal(result?.changed, false)
    t.equal(result?.record.status, 'rejected')
    t.equal(result?.record.size, null)
    t.same(await store.countEvents(), { pending: 0, delivered: 0, dead: 0 })
  })

  t.test('planImage records what a completion will publish while the upload is pending, and only then', async (t) => {
    const { store } = await fresh(t)
    const u = newUpload()
    await store.createUpload(u)
    const plan = { width: 10, height: 20, animated: false, placeholder: 'AAAA', variants: [{ size: 32, width: 32, height: 32, contentType: 'image/webp', key: 'profile-images/p-32.webp' }] }
    t.equal(await store.planImage(u.id, plan), true)
    const planned = await store.getUpload(u.id)
    t.same(planned, { ...u, status: 'pending', size: null, image: plan, confirmedAt: null, updatedAt: u.createdAt }, 'pending, with the plan; nothing else changed (not even updatedAt)')
    await store.transition(u.id, ['pending'], 'rejected', at(10))
    t.equal(await store.planImage(u.id, { ...plan, width: 99 }), false, 'no longer pending: refused')
    t.equal((await store.getUpload(u.id))?.image?.width, 10, 'unchanged')
    t.equal(await store.planImage('upl_unknown', plan), false, 'unknown id')
  })

  t.test('transition moves only from the allowed statuses', async (t) => {
    const { store } = await fresh(t)
    const u = newUpload()
    await store.createUpload(u)
    const expired = await store.transition(u.id, ['pending'], 'expired', at(50))
    t.equal(expired?.status, 'expired')
    t.same(expired?.updatedAt, at(50))
    t.equal(await store.transition(u.id, ['pending', 'confirmed'], 'replaced', at(60)), undefined, 'expired is not in from')
    t.equal((await store.getUpload(u.id))?.status, 'expired', 'unchanged after a refused transition')
    t.same((await store.getUpload(u.id))?.updatedAt, at(50))
    const deleted = await store.transition(u.id, ['pending', 'confirmed', 'rejected', 'expired', 'replaced'], 'deleted', at(70))
    t.equal(deleted?.status, 'deleted')
    t.equal(await store.transition('upl_unknown', ['pending'], 'deleted', at(70)), undefined, 'unknown id')
  })

  t.test('listExpiredPending: pending tickets expired before the cut-off, oldest first, limited', async (t) => {
    const { store } = await fresh(t)
    const a = newUpload({ expiresAt: at(3000) })
    const b = newUpload({ expiresAt: at(1000) })
    const c = newUpload({ expiresAt: at(2000) })
    const notYet = newUpload({ expiresAt: at(9000) })
    const confirmed = newUpload({ expiresAt: at(500) })
    const exact = newUpload({ expiresAt: at(5000) })
    for (const u of [a, b, c, notYet, confirmed, exact]) await store.createUpload(u)
    await store.confirmUpload(confirmed.id, 1, at(400), eventFor(at(400)))
    t.same(ids(await store.listExpiredPending(at(5000), 10)), [b.id, c.id, a.id], 'strictly before, pending only')
    t.same(ids(await store.listExpiredPending(at(5000), 2)), [b.id, c.id], 'limit')
    t.same(await store.listExpiredPending(at(0), 10), [])
    t.same(ids(await store.listExpiredPending(at(5000), 10, { expiresAt: b.expiresAt, id: b.id })), [c.id, a.id], 'the page after a cursor')
    // Ties on expiresAt are ordered by id, so a page boundary inside a tie loses nothing.
    const tied = [newUpload({ expiresAt: at(4000) }), newUpload({ expiresAt: at(4000) }), newUpload({ expiresAt: at(4000) })]
    for (const u of tied) await store.createUpload(u)
    const first = await store.listExpiredPending(at(5000), 4)
    t.same(ids(first).slice(0, 3), [b.id, c.id, a.id])
    const rest = ids(await store.listExpiredPending(at(5000), 10, first.at(-1)))
    t.same([...ids(first).slice(3), ...rest].sort(), tied.map((u) => u.id).sort(), 'every tied record once, across the boundary')
  })

  t.test('listReplaceable: the owner\'s confirmed uploads of tickets issued before the newer one\'s, whenever confirmed', async (t) => {
    const { store } = await fresh(t)
    // Tickets issued in this order (createdAt), confirmed in another: the issue order decides.
    const [old1, old2, newer, later, pending, otherOwner, rejected] = [0, 10, 20, 30, 5, 1, 2].map((ms, i) =>
      newUpload({ createdAt: at(ms), ...(i === 5 ? { ownerId: 'owner-2' } : {}) })) as [NewUpload, NewUpload, NewUpload, NewUpload, NewUpload, NewUpload, NewUpload]
    for (const u of [old1, old2, newer, later, pending, otherOwner, rejected]) await store.createUpload(u)
    // old2's ticket is older than newer's but it was confirmed after it (the sweeper, for a tab closed early).
    await store.confirmUpload(old1.id, 1, at(100), eventFor(at(100)))
    await store.confirmUpload(later.id, 1, at(150), eventFor(at(150)))
    const n = await store.confirmUpload(newer.id, 1, at(200), eventFor(at(200)))
    await store.confirmUpload(old2.id, 1, at(300), eventFor(at(300)))
    await store.confirmUpload(otherOwner.id, 1, at(150), eventFor(at(150)))
    await store.transition(rejected.id, ['pending'], 'rejected', at(50))
    if (n === undefined) throw new Error('confirm failed')
    t.same(ids(await store.listReplaceable('owner-1', n.record)), [old1.id, old2.id], 'oldest ticket first; confirmed later too; not itself, not a later ticket, not other owners')
    const l = await store.getUpload(later.id)
    if (l === undefined) throw new Error('missing')
    t.same(ids(await store.listReplaceable('owner-1', l)), [old1.id, old2.id, newer.id], 'a later ticket confirmed earlier replaces them all')
    await store.transition(old1.id, ['confirmed'], 'replaced', at(500))
    t.same(ids(await store.listReplaceable('owner-1', n.record)), [old2.id], 'replaced ones drop out')

    // Two tickets issued in the same millisecond: exactly one of them replaces the other.
    const [a, b] = [newUpload({ ownerId: 'owner-3', createdAt: at(600) }), newUpload({ ownerId: 'owner-3', createdAt: at(600) })] as [NewUpload, NewUpload]
    for (const u of [a, b]) await store.createUpload(u)
    const ra = (await store.confirmUpload(a.id, 1, at(700), eventFor(at(700))))?.record
    const rb = (await store.confirmUpload(b.id, 1, at(650), eventFor(at(650))))?.record
    if (ra === undefined || rb === undefined) throw new Error('confirm failed')
    const replacedByA = ids(await store.listReplaceable('owner-3', ra))
    const replacedByB = ids(await store.listReplaceable('owner-3', rb))
    t.equal(replacedByA.length + replacedByB.length, 1, 'a tie is ordered one way only')
  })

  t.test('supersededBy: a confirmed upload of a later ticket whose image.confirmed was delivered', async (t) => {
    const { store } = await fresh(t)
    const [older, newer, newest, otherOwner] = [newUpload({ createdAt: at(0) }), newUpload({ createdAt: at(10) }), newUpload({ createdAt: at(20) }), newUpload({ ownerId: 'owner-2', createdAt: at(30) })] as [NewUpload, NewUpload, NewUpload, NewUpload]
    for (const u of [older, newer, newest, otherOwner]) await store.createUpload(u)
    await store.confirmUpload(otherOwner.id, 1, at(100), eventFor(at(100)))
    await store.markDelivered(`msg_${otherOwner.id}`, at(101))
    await store.confirmUpload(newer.id, 1, at(100), eventFor(at(100)))
    const o = (await store.confirmUpload(older.id, 1, at(200), eventFor(at(200))))?.record
    if (o === undefined) throw new Error('confirm failed')
    t.equal(await store.supersededBy('owner-1', o), undefined, 'the newer ticket\'s confirmation is not delivered yet: the receiver may not know it')
    await store.markDelivered(`msg_${newer.id}`, at(300))
    t.equal((await store.supersededBy('owner-1', o))?.id, newer.id, 'delivered: the older ticket lost')
    const nw = await store.getUpload(newer.id)
    if (nw === undefined) throw new Error('missing')
    t.equal(await store.supersededBy('owner-1', nw), undefined, 'the newest confirmed ticket is superseded by nothing (newest is still pending)')
    await store.confirmUpload(newest.id, 1, at(400), eventFor(at(400)))
    await store.markFailed(`msg_${newest.id}`, 'HTTP 500', at(500), true)
    t.equal(await store.supersededBy('owner-1', nw), undefined, 'a dead confirmation was never received')
    await store.transition(newer.id, ['confirmed'], 'deleted', at(600))
    t.equal(await store.supersededBy('owner-1', o), undefined, 'a deleted upload supersedes nothing')
  })

  t.test('deleteUpload: → deleted; a confirmed one\'s undelivered image.confirmed is dropped and its event written, in one go', async (t) => {
    const { store } = await fresh(t)
    const deletedEvent = (r: UploadRecord): NewEvent => ({ id: `del_${r.id}`, uploadId: r.id, type: 'image.deleted', payload: JSON.stringify({ type: 'image.deleted', data: { uploadId: r.id, status: r.status } }), createdAt: at(900) })
    const [waiting, dead, delivered, pending] = [newUpload(), newUpload(), newUpload(), newUpload()] as [NewUpload, NewUpload, NewUpload, NewUpload]
    for (const u of [waiting, dead, delivered, pending]) await store.createUpload(u)
    for (const u of [waiting, dead, delivered]) await store.confirmUpload(u.id, 1, at(100), eventFor(at(100)))
    await store.markFailed(`msg_${dead.id}`, 'HTTP 500', at(200), true)
    await store.markDelivered(`msg_${delivered.id}`, at(200))

    const w = await store.deleteUpload(waiting.id, at(800), deletedEvent)
    t.match(w, { was: 'confirmed', record: { id: waiting.id, status: 'deleted', updatedAt: at(800) } })
    t.equal(await store.getEvent(`msg_${waiting.id}`), undefined, 'the pending image.confirmed is gone: never delivered')
    t.match(await store.getEvent(`del_${waiting.id}`), { type: 'image.deleted', status: 'pending', payload: /"status":"deleted"/, nextAttemptAt: at(900) }, 'the image.deleted event is built from the deleted record')
    t.match(await store.deleteUpload(dead.id, at(800), deletedEvent), { was: 'confirmed' })
    t.equal(await store.getEvent(`msg_${dead.id}`), undefined, 'a dead one too: a re-drive cannot send it')
    t.same(await store.listEvents('dead', 10), [])
    t.match(await store.deleteUpload(delivered.id, at(800), deletedEvent), { was: 'confirmed' })
    t.match(await store.getEvent(`msg_${delivered.id}`), { status: 'delivered' }, 'a delivered one stays (history)')
    t.same(await store.countEvents(), { pending: 3, delivered: 1, dead: 0 })

    let called = false
    const p = await store.deleteUpload(pending.id, at(800), (r) => { called = true; return deletedEvent(r) })
    t.match(p, { was: 'pending', record: { status: 'deleted' } })
    t.notOk(called, 'nothing was published: no image.deleted')
    t.equal(await store.deleteUpload(pending.id, at(900), deletedEvent), undefined, 'already deleted')
    t.equal(await store.deleteUpload('upl_unknown', at(900), deletedEvent), undefined, 'unknown id')
    t.same(ids(await store.listEvents('pending', 10)).sort(), [`del_${waiting.id}`, `del_${dead.id}`, `del_${delivered.id}`].sort())
  })

  t.test('listLeftovers: no longer pending, ticket expired, not cleaned since the last change; touching cleans', async (t) => {
    const { store } = await fresh(t)
    const rejected = newUpload({ expiresAt: at(2000) })
    const deleted = newUpload({ expiresAt: at(1000) })
    const replaced = newUpload({ expiresAt: at(3000) })
    const endedLate = newUpload({ expiresAt: at(1500) })
    const stillValid = newUpload({ expiresAt: at(9000) })
    const confirmed = newUpload({ expiresAt: at(500) })
    const confirmedLate = newUpload({ expiresAt: at(700) })
    const expired = newUpload({ expiresAt: at(600) })
    const pending = newUpload({ expiresAt: at(400) })
    for (const u of [rejected, deleted, replaced, endedLate, stillValid, confirmed, confirmedLate, expired, pending]) await store.createUpload(u)
    await store.transition(rejected.id, ['pending'], 'rejected', at(100))
    await store.transition(deleted.id, ['pending'], 'deleted', at(100))
    await store.confirmUpload(replaced.id, 1, at(100), eventFor(at(100)))
    await store.transition(replaced.id, ['confirmed'], 'replaced', at(200))
    // Ended after the ticket expired (by the sweeper, or a completion within the grace period): a delete done then
    // may have failed, and a form may have landed just after the sweeper looked.
    await store.transition(endedLate.id, ['pending'], 'deleted', at(1600))
    await store.transition(stillValid.id, ['pending'], 'rejected', at(100))
    await store.confirmUpload(confirmed.id, 1, at(100), eventFor(at(100)))
    await store.confirmUpload(confirmedLate.id, 1, at(800), eventFor(at(800)))
    await store.transition(expired.id, ['pending'], 'expired', at(700))
    const all = [confirmed.id, expired.id, confirmedLate.id, deleted.id, endedLate.id, rejected.id, replaced.id]
    t.same(ids(await store.listLeftovers(at(5000), 10)), all, 'oldest ticket first; every status but pending')
    t.same(ids(await store.listLeftovers(at(5000), 1)), [confirmed.id], 'limit')
    t.same(ids(await store.listLeftovers(at(5000), 10, confirmed)), all.slice(1), 'the page after a cursor')
    t.same(ids(await store.listLeftovers(at(1200), 10)), all.slice(0, 4), 'only tickets expired before `before`')
    for (const u of [deleted, confirmed, expired]) {
      const { status } = await store.getUpload(u.id) ?? { status: 'pending' as const }
      await store.transition(u.id, [status], status, at(5000))
    }
    t.same(ids(await store.listLeftovers(at(5000), 10)), [confirmedLate.id, endedLate.id, rejected.id, replaced.id], 'a touched upload is listed no more')
    t.match(await store.getUpload(confirmed.id), { status: 'confirmed', confirmedAt: at(100) }, 'touching keeps the confirmation')
    await store.transition(confirmed.id, ['confirmed'], 'replaced', at(6000))
    await store.deleteUpload(confirmed.id, at(6100), (r) => ({ id: `del_${r.id}`, uploadId: r.id, type: 'image.deleted', payload: '{}', createdAt: at(6100) }))
    t.same(ids(await store.listLeftovers(at(5000), 10)), [confirmed.id, confirmedLate.id, endedLate.id, rejected.id, replaced.id], 'a change after the touch lists it again')
  })

  t.test('claimEvents leases due events, oldest first; leased events are not claimed again', async (t) => {
    const { store } = await fresh(t)
    const e2 = await seedEvent(store, at(200))
    const e1 = await seedEvent(store, at(100))
    const e3 = await seedEvent(store, at(300))
    const future = await seedEvent(store, at(10_000))
    const first = await store.claimEvents(at(1000), 2, LEASE)
    t.same(ids(first), [e1.id, e2.id], 'the two oldest due')
    t.ok(first.every((e) => e.leaseUntil?.getTime() === at(1000 + LEASE).getTime()), 'leased until now + lease')
    t.same((await store.getEvent(e1.id))?.leaseUntil, at(1000 + LEASE), 'the lease is stored')
    t.same(ids(await store.claimEvents(at(1000), 10, LEASE)), [e3.id], 'leased ones are skipped')
    t.same(await store.claimEvents(at(1000), 10, LEASE), [], 'nothing left that is due')
    t.equal((await store.getEvent(future.id))?.leaseUntil, null, 'not due yet: untouched')
    t.same(await store.countEvents(), { pending: 4, delivered: 0, dead: 0 }, 'claiming is not an attempt')
  })

  t.test('a lapsed lease (a replica that died) is claimed again', async (t) => {
    const { store, replica } = await fresh(t)
    const replicaB = await replica(store)
    const e = await seedEvent(store, at(0))
    t.same(ids(await store.claimEvents(at(1000), 10, 5000)), [e.id], 'replica A claims')
    t.same(await replicaB.claimEvents(at(5999), 10, 5000), [], 'still leased just before it lapses')
    const again = await replicaB.claimEvents(at(6000), 10, 5000)
    t.same(ids(again), [e.id], 'replica B takes it once the lease lapsed')
    t.same(again[0]?.leaseUntil, at(11_000))
    t.equal(again[0]?.attempts, 0)
  })

  t.test('renewLease extends a claim still held, and only that', async (t) => {
    const { store, replica } = await fresh(t)
    const replicaB = await replica(store)
    const e = await seedEvent(store, at(0))
    await store.claimEvents(at(1000), 10, 5000)
    t.equal(await store.renewLease(e.id, at(6000), at(9000)), true, 'held: extended')
    t.same((await store.getEvent(e.id))?.leaseUntil, at(9000))
    t.same(await replicaB.claimEvents(at(8000), 10, 5000), [], 'not claimable while renewed')
    t.equal(await store.renewLease(e.id, at(6000), at(12_000)), false, 'a lease it no longer holds is not renewed')
    t.same(ids(await replicaB.claimEvents(at(9000), 10, 5000)), [e.id], 'lapsed: another replica takes it')
    t.equal(await store.renewLease(e.id, at(9000), at(20_000)), false, 'the first replica\'s renewal then fails')
    t.same((await store.getEvent(e.id))?.leaseUntil, at(14_000), 'the new claim stands')
    await replicaB.markDelivered(e.id, at(10_000))
    t.equal(await replicaB.renewLease(e.id, at(14_000), at(30_000)), false, 'a settled event is not renewed')
  })

  t.test('concurrent claims from two stores never return the same event', async (t) => {
    const { store, replica } = await fresh(t)
    const replicaB = await replica(store)
    const seeded = []
    for (let i = 0; i < 60; i++) seeded.push(await seedEvent(store, at(i)))
    const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? store : replicaB).claimEvents(at(1000), 10, LEASE)))
    const claimed = claims.flatMap(ids)
    t.equal(new Set(claimed).size, claimed.length, 'no event is claimed twice')
    t.same(claimed.sort(), ids(seeded).sort(), 'together they claimed every due event')
  })

  t.test('markDelivered ends an event', async (t) => {
    const { store } = await fresh(t)
    const e = await seedEvent(store, at(0))
    await store.claimEvents(at(10), 1, LEASE)
    await store.markDelivered(e.id, at(20))
    t.same(await store.getEvent(e.id), { ...e, status: 'delivered', attempts: 1, leaseUntil: null, deliveredAt: at(20) })
    t.same(await store.claimEvents(at(LEASE * 10), 10, LEASE), [], 'never claimed again')
    t.same(await store.listEvents('delivered', 10), [await store.getEvent(e.id)])
    t.same(await store.countEvents(), { pending: 0, delivered: 1, dead: 0 })
  })

  t.test('markFailed retries at nextAttemptAt, or ends the event as dead; redrive brings it back', async (t) => {
    const { store } = await fresh(t)
    const e = await seedEvent(store, at(0))
    await store.claimEvents(at(10), 1, LEASE)
    await store.markFailed(e.id, `HTTP 500 ${'x'.repeat(1000)}`, at(5000), false)
    const failed = await store.getEvent(e.id)
    t.match(failed, { status: 'pending', attempts: 1, nextAttemptAt: at(5000), leaseUntil: null })
    t.equal(failed?.lastError?.length, 500, 'the error is kept, cut to 500 characters')
    t.same(await store.claimEvents(at(4999), 10, LEASE), [], 'not before its next attempt')
    t.same(ids(await store.claimEvents(at(5000), 10, LEASE)), [e.id], 'due again at nextAttemptAt')

    await store.markFailed(e.id, 'HTTP 410', at(9000), true)
    t.match(await store.getEvent(e.id), { status: 'dead', attempts: 2, lastError: 'HTTP 410', leaseUntil: null })
    t.same(await store.claimEvents(at(LEASE * 10), 10, LEASE), [], 'dead events are not claimed')
    t.same(ids(await store.listEvents('dead', 10)), [e.id])
    t.same(await store.countEvents(), { pending: 0, delivered: 0, dead: 1 })

    t.equal(await store.redriveEvent(e.id, at(20_000)), true)
    t.match(await store.getEvent(e.id), { status: 'pending', attempts: 0, nextAttemptAt: at(20_000), leaseUntil: null })
    t.equal(await store.redriveEvent(e.id, at(20_000)), false, 'only dead events are redriven')
    t.equal(await store.redriveEvent('msg_unknown', at(20_000)), false)
    t.same(ids(await store.claimEvents(at(20_000), 10, LEASE)), [e.id], 'claimable after redrive')
  })

  t.test('a late failure from a lapsed claim does not undo a delivery', async (t) => {
    const { store } = await fresh(t)
    const e = await seedEvent(store, at(0))
    await store.claimEvents(at(10), 1, LEASE)
    t.same(ids(await store.claimEvents(at(10 + LEASE), 1, LEASE)), [e.id], 'the lease lapsed: claimed again')
    await store.markDelivered(e.id, at(20 + LEASE))
    await store.markFailed(e.id, 'timeout', at(5000 + LEASE), false)
    await store.markFailed(e.id, 'timeout', at(5000 + LEASE), true)
    t.match(await store.getEvent(e.id), { status: 'delivered', attempts: 1, deliveredAt: at(20 + LEASE) })
  })

  t.test('releaseEvent gives a claim back without counting an attempt', async (t) => {
    const { store } = await fresh(t)
    const e = await seedEvent(store, at(0))
    const d = await seedEvent(store, at(1))
    await store.claimEvents(at(10), 10, LEASE)
    await store.releaseEvent(e.id)
    t.match(await store.getEvent(e.id), { status: 'pending', attempts: 0, leaseUntil: null })
    t.same(ids(await store.claimEvents(at(10), 10, LEASE)), [e.id], 'claimable again at once')
    await store.markDelivered(d.id, at(20))
    await store.releaseEvent(d.id)
    t.match(await store.getEvent(d.id), { status: 'delivered', attempts: 1 }, 'a delivered event stays delivered')
  })

  t.test('listEvents and countEvents by status; getEvent of an unknown id', async (t) => {
    const { store } = await fresh(t)
    t.same(await store.countEvents(), { pending: 0, delivered: 0, dead: 0 }, 'zeros when empty')
    const events = []
    for (let i = 0; i < 5; i++) events.push(await seedEvent(store, at(i)))
    const [a, b, c] = events as [OutboxEvent, OutboxEvent, OutboxEvent]
    await store.markDelivered(a.id, at(10))
    await store.markFailed(b.id, 'boom', at(10), true)
    await store.markFailed(c.id, 'boom', at(10), true)
    t.same(ids(await store.listEvents('pending', 10)), ids(events.slice(3)), 'oldest first')
    t.same(ids(await store.listEvents('dead', 1)), [b.id], 'limit')
    t.same(await store.countEvents(), { pending: 2, delivered: 1, dead: 2 })
    t.equal(await store.getEvent('msg_unknown'), undefined)
  })

  t.test('pruneEvents: delivered and dead events that ended before the cut-off go, a batch at a time; pending ones and a confirmed upload\'s dead image.confirmed stay', async (t) => {
    const { store } = await fresh(t)
    const delivered = await seedEvent(store, at(0))
    await store.markDelivered(delivered.id, at(100))
    const deliveredLately = await seedEvent(store, at(1))
    await store.markDelivered(deliveredLately.id, at(5000))
    const pending = await seedEvent(store, at(2))
    const retrying = await seedEvent(store, at(3))
    await store.markFailed(retrying.id, 'HTTP 500', at(200), false)
    // Never received, still the upload's image: re-drivable, and replacement counts it as not delivered (supersededBy).
    const deadConfirmed = await seedEvent(store, at(4))
    await store.markFailed(deadConfirmed.id, 'HTTP 500', at(200), true)
    const deadReplaced = await seedEvent(store, at(5))
    await store.markFailed(deadReplaced.id, 'HTTP 500', at(200), true)
    await store.transition(deadReplaced.uploadId, ['confirmed'], 'replaced', at(300))
    const deadLately = await seedEvent(store, at(6))
    await store.markFailed(deadLately.id, 'HTTP 500', at(6000), true)
    const gone = newUpload()
    await store.createUpload(gone)
    await store.confirmUpload(gone.id, 1, at(7), eventFor(at(7)))
    await store.deleteUpload(gone.id, at(50), (r) => ({ id: `del_${r.id}`, uploadId: r.id, type: 'image.deleted', payload: '{}', createdAt: at(50) }))
    await store.markFailed(`del_${gone.id}`, 'HTTP 410', at(200), true)
    t.same(await store.countEvents(), { pending: 2, delivered: 2, dead: 4 })

    t.equal(await removed(store.pruneEvents(at(1000), 2)), 2, 'a batch at most')
    t.equal(await removed(store.pruneEvents(at(1000), 2)), 1, 'then the rest')
    t.equal(await removed(store.pruneEvents(at(1000), 2)), 0, 'then nothing')
    for (const e of [delivered.id, deadReplaced.id, `del_${gone.id}`]) t.equal(await store.getEvent(e), undefined, `${e} is gone`)
    for (const e of [deliveredLately, pending, retrying, deadConfirmed, deadLately]) t.ok(await store.getEvent(e.id), `${e.id} stays`)
    t.same(await store.countEvents(), { pending: 2, delivered: 1, dead: 2 }, 'the counts follow')
    t.same(ids(await store.listEvents('dead', 10)), [deadConfirmed.id, deadLately.id])
    t.equal(await store.redriveEvent(deadConfirmed.id, at(7000)), true, 'the dead confirmation can still be re-driven')
  })

  t.test('pruneUploads: uploads that ended before the cut-off and have no event left go; pending and confirmed ones never', async (t) => {
    const { store } = await fresh(t)
    // Tickets issued at 0 and valid until 600 000.
    const [pending, confirmed, expired, rejected, rejectedUncleaned, replaced, deleted, expiredLately] =
      Array.from({ length: 8 }, () => newUpload()) as [NewUpload, NewUpload, NewUpload, NewUpload, NewUpload, NewUpload, NewUpload, NewUpload]
    for (const u of [pending, confirmed, expired, rejected, rejectedUncleaned, replaced, deleted, expiredLately]) await store.createUpload(u)
    for (const u of [confirmed, replaced, deleted]) await store.confirmUpload(u.id, 1, at(100), eventFor(at(100)))
    for (const u of [confirmed, replaced]) await store.markDelivered(`msg_${u.id}`, at(200))
    await store.transition(expired.id, ['pending'], 'expired', at(700_000))
    // Rejected while its form was valid: the sweeper cleans what was posted after, then touches it (listLeftovers).
    for (const u of [rejected, rejectedUncleaned]) await store.transition(u.id, ['pending'], 'rejected', at(100))
    await store.transition(rejected.id, ['rejected'], 'rejected', at(700_000))
    await store.transition(replaced.id, ['confirmed'], 'replaced', at(700_000))
    // Its image.deleted waits for delivery.
    await store.deleteUpload(deleted.id, at(700_000), (r) => ({ id: `del_${r.id}`, uploadId: r.id, type: 'image.deleted', payload: '{}', createdAt: at(700_000) }))
    await store.transition(expiredLately.id, ['pending'], 'expired', at(2_000_000))
    // The sweeper cleans each ended upload's leftovers, then touches it (same status: cleaned_at set).
    for (const [u, status, time] of [[expired, 'expired', 700_000], [replaced, 'replaced', 700_000], [expiredLately, 'expired', 2_000_000]] as const) {
      await store.transition(u.id, [status], status, at(time))
    }
    const cutOff = at(1_000_000)

    t.equal(await removed(store.pruneUploads(cutOff, 1)), 1, 'a batch at most')
    t.equal(await removed(store.pruneUploads(cutOff, 10)), 1, 'then the rest')
    t.equal(await removed(store.pruneUploads(cutOff, 10)), 0, 'then nothing')
    t.equal(await store.getUpload(expired.id), undefined)
    t.equal(await store.getUpload(rejected.id), undefined)
    t.ok(await store.getUpload(replaced.id), 'an upload whose event is still kept stays')
    t.equal(await removed(store.pruneEvents(cutOff, 100)), 2, 'the delivered confirmations')
    t.equal(await removed(store.pruneUploads(cutOff, 10)), 1)
    t.equal(await store.getUpload(replaced.id), undefined, 'then it goes')

    const farFuture = at(1e12)
    await removed(store.pruneEvents(farFuture, 100))
    t.equal(await removed(store.pruneUploads(farFuture, 10)), 1, 'later on, the one that ended lately')
    t.equal(await store.getUpload(expiredLately.id), undefined)
    t.match(await store.getUpload(pending.id), { status: 'pending' }, 'a pending upload is the sweeper\'s, however old')
    t.match(await store.getUpload(confirmed.id), { status: 'confirmed' }, 'the owner\'s image stays: replacement and DELETE need it')
    t.match(await store.getUpload(rejectedUncleaned.id), { status: 'rejected' }, 'a leftover the sweeper has not cleaned yet stays')
    t.match(await store.getUpload(deleted.id), { status: 'deleted' }, 'an upload with an event not delivered stays')
    t.match(await store.getEvent(`del_${deleted.id}`), { status: 'pending' }, 'and so does the event')
    t.same(await store.countEvents(), { pending: 1, delivered: 0, dead: 0 })
  })

  t.test('a retention pass goes on after where its last batch ended, oldest first; rows it keeps do not end it', async (t) => {
    const { store } = await fresh(t)
    const [a, b, c, d, kept, older] = Array.from({ length: 6 }, () => newUpload({ expiresAt: at(10) })) as [NewUpload, NewUpload, NewUpload, NewUpload, NewUpload, NewUpload]
    for (const u of [a, b, c, d, kept, older]) await store.createUpload(u)
    // Two ended in the same millisecond (the sweeper touches a whole pass with one time): ordered by id.
    const [tieFirst, tieSecond] = [c, d].sort((x, y) => (x.id < y.id ? -1 : 1)) as [NewUpload, NewUpload]
    // Each then cleaned by the sweeper and touched (same status: cleaned_at set, listLeftovers).
    for (const [u, ms] of [[b, 300], [a, 100], [c, 200], [d, 200]] as const) {
      await store.transition(u.id, ['pending'], 'expired', at(ms))
      await store.transition(u.id, ['expired'], 'expired', at(ms))
    }
    // Ended first, and an event still refers to it (its image.deleted is not delivered): kept, passed over.
    await store.confirmUpload(kept.id, 1, at(20), eventFor(at(20)))
    await store.deleteUpload(kept.id, at(50), (r) => ({ id: `del_${r.id}`, uploadId: r.id, type: 'image.deleted', payload: '{}', createdAt: at(50) }))
    await store.transition(kept.id, ['deleted'], 'deleted', at(50))

    const first = await store.pruneUploads(at(1000), 1)
    t.same(first, { removed: 0, resume: { at: at(50), id: kept.id }, done: false }, 'a batch of rows kept does not end the pass')
    const second = await store.pruneUploads(at(1000), 1, first.resume)
    t.same(second, { removed: 1, resume: { at: at(100), id: a.id }, done: false }, 'the next one starts after it')
    t.equal(await store.getUpload(a.id), undefined)
    // An upload that ended before the pass's position is left for the next pass.
    await store.transition(older.id, ['pending'], 'expired', at(60))
    await store.transition(older.id, ['expired'], 'expired', at(60))
    const third = await store.pruneUploads(at(1000), 1, second.resume)
    t.same(third, { removed: 1, resume: { at: at(200), id: tieFirst.id }, done: false })
    t.same(await store.pruneUploads(at(1000), 5, third.resume), { removed: 2, resume: { at: at(300), id: b.id }, done: true }, 'past a tie; fewer than the limit: done')
    t.equal(await store.getUpload(tieSecond.id), undefined, 'the second of the tie went in its turn')
    t.same(await store.pruneUploads(at(1000), 5, { at: at(300), id: b.id }), { removed: 0, resume: { at: at(300), id: b.id }, done: true })
    t.match(await store.getUpload(older.id), { status: 'expired' })
    t.match(await store.pruneUploads(at(1000), 5), { removed: 1, done: true }, 'the next pass starts from the beginning')
    t.match(await store.getUpload(kept.id), { status: 'deleted' })

    const events = [await seedEvent(store, at(30)), await seedEvent(store, at(10)), await seedEvent(store, at(20))]
    for (const e of events) await store.markDelivered(e.id, at(40))
    t.same(await store.pruneEvents(at(1000), 2), { removed: 2, resume: { at: at(20), id: events[2]?.id }, done: false }, 'events by creation, oldest first')
    t.same(ids(await store.listEvents('delivered', 10)), [events[0]?.id])
    t.same(await store.pruneEvents(at(1000), 2, { at: at(20), id: events[2]?.id ?? '' }), { removed: 1, resume: { at: at(30), id: events[0]?.id }, done: true })
  })

  t.test('ping answers while open', async (t) => {
    const { store } = await fresh(t)
    await t.resolves(store.ping())
  })
}
