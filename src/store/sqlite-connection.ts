// How every connection to the SQLite file is set up (the store's own, and its insert thread's), and the one
// ticket insert both of them run.
import type Database from 'better-sqlite3'

export function configure (db: Database.Database): void {
  db.pragma('journal_mode = WAL')
  // FULL: a committed ticket survives power loss, not only a crash; group commit pays for the fsync.
  db.pragma('synchronous = FULL')
  // Checkpoint every ~40 MB of WAL instead of ~4 MB: a page rewritten by many commits is copied back once.
  db.pragma('wal_autocheckpoint = 10000')
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
}

/**
 * A ticket's row, positional (cheaper to bind and to post to a thread than named parameters):
 * [id, ownerId, key, contentType, maxBytes, declaredSize, createdAt, expiresAt, updatedAt], times in ms.
 */
export type UploadInsertRow = [string, string, string, string, number, number | null, number, number, number]

export const INSERT_UPLOAD = `INSERT INTO uploads (id, owner_id, key, content_type, status, max_bytes, declared_size, created_at, expires_at, updated_at)
  VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`

/**
 * Inserts the rows in one transaction (one commit, one fsync). If that fails, each row is tried on its own so one
 * bad row fails only its own ticket. Returns each row's error, or null when all committed together.
 */
export function insertUploads (db: Database.Database, insert: Database.Statement<UploadInsertRow>, rows: UploadInsertRow[]): Array<Error | null> | null {
  try {
    db.transaction(() => { for (const row of rows) insert.run(...row) })()
    return null
  } catch {
    return rows.map((row) => {
      try {
        insert.run(...row)
        return null
      } catch (err) { return err as Error }
    })
  }
}
