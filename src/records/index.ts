// The store factory: PostgreSQL when DATABASE_URL is set (several replicas), else the embedded SQLite file.
import type { Config } from '../config.js'
import type { StoreLog } from './postgres.js'
import { openSqliteStore } from './sqlite.js'
import type { RecordStore } from './record-store.js'

export async function createRecordStore (config: Config, log?: StoreLog): Promise<RecordStore> {
  if (config.database.url !== undefined) {
    // Loaded only when used: a single SQLite instance never opens the pg module.
    const { openPostgresStore } = await import('./postgres.js')
    return await openPostgresStore(config.database, log)
  }
  return openSqliteStore(config.database.dataDir)
}
