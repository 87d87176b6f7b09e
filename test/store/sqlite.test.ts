// The Store contract on the embedded SQLite store: each test gets its own data folder.
import t from 'tap'
import { openSqliteStore } from '../../src/store/sqlite.js'
import { scratch } from '../helpers/build.js'
import { storeContract } from './contract.js'

storeContract(t, async (t) => {
  const dir = scratch(t, 'store-sqlite-')
  return async () => openSqliteStore(dir)
})
