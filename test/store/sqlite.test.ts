// The Store contract on the embedded SQLite store: each test gets its own data folder.
import t from 'tap'
import { openSqliteStore } from '../../src/store/sqlite.js'
import { scratch } from '../helpers/build.js'
import { storeContract } from './contract.js'

storeContract(t, async (t) => {
  const dir = scratch(t, 'store-sqlite-')
  return async () => openSqliteStore(dir)
})

t.test('delivery bookkeeping commits without waiting for the disk; everything else still waits', async (t) => {
  const dir = scratch(t, 'store-sqlite-sync-')
  const store = openSqliteStore(dir)
  t.teardown(() => store.close())
  const db = (store as unknown as { db: { pragma: (s: string, o: { simple: true }) => unknown } }).db
  const level = () => db.pragma('synchronous', { simple: true })
  t.equal(level(), 2, 'FULL for tickets and confirmations')
  const now = new Date()
  await store.claimEvents(now, 10, 1000)
  await store.markDelivered('msg_none', now)
  await store.markFailed('msg_none', 'x', now, false)
  await store.releaseEvent('msg_none')
  t.equal(level(), 2, 'FULL again after each relaxed write')
})
