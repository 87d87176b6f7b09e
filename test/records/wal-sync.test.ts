// WalSync: a durable() call resolves only after a flush that began after it; calls made while a flush runs share
// the next one; a failed flush fails its callers, the ones waiting, and every later one.
import { closeSync, fdatasync, openSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { WalSync, type SyncFn } from '../../src/records/wal-sync.js'
import { scratch } from '../helpers/build.js'

/** A real fdatasync held until released (or failed), counting the flushes started. */
function heldSync () {
  const held: Array<() => void> = []
  let started = 0
  let fail: NodeJS.ErrnoException | undefined
  const sync: SyncFn = (fd, cb) => {
    started++
    held.push(() => { if (fail !== undefined) cb(fail); else fdatasync(fd, cb) })
  }
  return { sync, started: () => started, release: () => { for (const go of held.splice(0)) go() }, failWith: (err: NodeJS.ErrnoException) => { fail = err } }
}

function walFile (t: Test): number {
  const file = join(scratch(t, 'wal-sync-'), 'wal')
  writeFileSync(file, 'x')
  const fd = openSync(file, 'r')
  t.teardown(() => closeSync(fd))
  return fd
}

const state = async (p: Promise<unknown>) => await Promise.race([p.then(() => 'resolved', () => 'rejected'), new Promise((resolve) => setTimeout(() => resolve('pending'), 20))])

t.test('callers wait for a flush that began after them; callers during a flush share the next one', async (t) => {
  const h = heldSync()
  const wal = new WalSync(walFile(t), h.sync)
  const first = wal.durable()
  t.equal(h.started(), 1, 'the first caller starts a flush at once')
  const second = wal.durable()
  const third = wal.durable()
  t.equal(h.started(), 1, 'callers during a flush do not start another')
  t.equal(await state(first), 'pending', 'not durable before the flush ends')
  h.release()
  await first
  t.equal(h.started(), 2, 'the callers that came during the first flush get the next one, started when it ended')
  t.equal(await state(second), 'pending', 'a flush that began before them does not count')
  h.release()
  await Promise.all([second, third])
  t.equal(h.started(), 2, 'one flush for both')
  t.equal(await state(Promise.resolve()), 'resolved')
  const later = wal.durable()
  t.equal(h.started(), 3, 'idle again: the next caller starts a flush at once')
  h.release()
  await later
})

t.test('a failed flush fails its callers, the ones waiting, and every later one', async (t) => {
  const h = heldSync()
  const wal = new WalSync(walFile(t), h.sync)
  const first = wal.durable()
  const waiting = wal.durable()
  h.failWith(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))
  h.release()
  await t.rejects(first, { code: 'EIO' })
  await t.rejects(waiting, { code: 'EIO' }, 'callers waiting for the next flush are not told they are safe')
  await t.rejects(wal.durable(), { code: 'EIO' }, 'nor is anyone after')
  t.equal(h.started(), 1, 'no flush is trusted after a failure')
  t.equal(wal.failed?.message, 'EIO: i/o error, fdatasync')
})

t.test('close() waits for the flush running, then refuses callers', async (t) => {
  const file = join(scratch(t, 'wal-sync-'), 'wal')
  writeFileSync(file, 'x')
  const h = heldSync()
  const wal = new WalSync(openSync(file, 'r'), h.sync)
  const flushing = wal.durable()
  const closing = wal.close()
  t.equal(await state(closing), 'pending', 'the fd stays open while a flush uses it')
  h.release()
  await flushing
  await closing
  await t.rejects(wal.durable(), /closed/)
})

t.test('a flush that throws at once fails its callers instead of leaving them waiting', async (t) => {
  const wal = new WalSync(walFile(t), () => { throw Object.assign(new Error('EBADF: bad file descriptor'), { code: 'EBADF' }) })
  await t.rejects(wal.durable(), { code: 'EBADF' })
  await t.rejects(wal.durable(), { code: 'EBADF' }, 'and every later one')
})

t.test('afterFlush: called when the running flush ends, and the next flush waits for the end of that turn', async (t) => {
  const h = heldSync()
  const wal = new WalSync(walFile(t), h.sync)
  t.equal(wal.afterFlush(() => t.fail('never called when idle')), false, 'idle: nothing to wait for')
  const first = wal.durable()
  const waiting = wal.durable()
  const order: string[] = []
  let late: Promise<void> | undefined
  t.equal(wal.afterFlush(() => {
    order.push('commit called')
    // What the ticket batch does: commit at the end of the turn, then ask for a flush.
    setImmediate(() => { order.push(`committed, flushes ${h.started()}`); late = wal.durable() })
  }), true, 'a flush runs: the caller waits for it')
  h.release()
  await first
  t.same(order, ['commit called'], 'called as the flush ended')
  t.equal(h.started(), 1, 'the next flush has not started yet, though callers wait for it')
  await new Promise((resolve) => setImmediate(resolve))
  t.same(order, ['commit called', 'committed, flushes 1'], 'the commit at the end of the turn came before the next flush')
  t.equal(h.started(), 2, 'which its durable() started, for it and the callers that waited')
  h.release()
  await Promise.all([waiting, late])
  t.equal(h.started(), 2, 'one flush for both')
})

t.test('afterFlush: when the caller commits nothing, the callers waiting still get their flush', async (t) => {
  const h = heldSync()
  const wal = new WalSync(walFile(t), h.sync)
  const first = wal.durable()
  const waiting = wal.durable()
  wal.afterFlush(() => {})
  h.release()
  await first
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(h.started(), 2, 'started at the end of the turn')
  h.release()
  await waiting
})

t.test('afterFlush: a failed flush still calls back, and nothing flushes after it', async (t) => {
  const h = heldSync()
  const wal = new WalSync(walFile(t), h.sync)
  const first = wal.durable()
  let called = false
  wal.afterFlush(() => { called = true })
  h.failWith(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))
  h.release()
  await t.rejects(first, { code: 'EIO' })
  t.ok(called, 'the caller learns the flush ended (its own writes then see the failure)')
  t.equal(h.started(), 1)
})

t.test('afterFlush then close(): close() ends once the flush has, even when nothing is committed after it', async (t) => {
  const file = join(scratch(t, 'wal-sync-'), 'wal')
  writeFileSync(file, 'x')
  const h = heldSync()
  const wal = new WalSync(openSync(file, 'r'), h.sync)
  const first = wal.durable()
  wal.afterFlush(() => {})
  const closing = wal.close()
  h.release()
  await first
  await closing
  t.equal(h.started(), 1, 'no flush after it')
})
