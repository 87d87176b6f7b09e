// Versioned schema of the SQLite store, and migrate(), which applies it in order on start, each version in its own
// transaction. Times are unix milliseconds.
import type Database from 'better-sqlite3'

export const sqliteMigrations: ReadonlyArray<{ version: number, sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        key TEXT NOT NULL UNIQUE,
        content_type TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending','confirmed','rejected','expired','replaced','deleted')),
        max_bytes INTEGER NOT NULL,
        declared_size INTEGER,
        size INTEGER,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        confirmed_at INTEGER,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX uploads_pending_expiry ON uploads (expires_at) WHERE status = 'pending';
      CREATE INDEX uploads_owner_confirmed ON uploads (owner_id, confirmed_at) WHERE status = 'confirmed';
      CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        upload_id TEXT NOT NULL REFERENCES uploads (id),
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending','delivered','dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_until INTEGER,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        delivered_at INTEGER
      );
      CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
    `
  },
  {
    version: 2,
    // The sweeper's leftovers: rejected, deleted or replaced while their ticket was still valid (RecordStore.listLeftovers).
    sql: `
      CREATE INDEX uploads_leftovers ON uploads (expires_at) WHERE status IN ('rejected', 'deleted', 'replaced') AND updated_at < expires_at;
    `
  },
  {
    version: 3,
    // Confirmed while the ticket was valid is a leftover too: in production the form can be posted again to the
    // staging key after the confirmation (ObjectStore.uploadedKey).
    sql: `
      DROP INDEX uploads_leftovers;
      CREATE INDEX uploads_leftovers ON uploads (expires_at) WHERE status IN ('confirmed', 'rejected', 'deleted', 'replaced') AND updated_at < expires_at;
    `
  },
  {
    version: 4,
    // Both tables rebuilt (SQLite cannot alter a constraint), for the cost of every write, measured in
    // docs/performance.md: SQLite checks `x IN (...)` of more than two values by building a temporary b-tree each
    // time, so the status CHECKs become comparisons and the leftovers index names the two statuses it excludes
    // (the statuses are the CHECK's six). The UNIQUE index on key goes: a key is a millisecond time and 80 random
    // bits, and no query looks one up. Run with foreign keys off (migrate()), checked before the commit.
    sql: `
      CREATE TABLE uploads_v4 (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        key TEXT NOT NULL,
        content_type TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status = 'pending' OR status = 'confirmed' OR status = 'rejected' OR status = 'expired' OR status = 'replaced' OR status = 'deleted'),
        max_bytes INTEGER NOT NULL,
        declared_size INTEGER,
        size INTEGER,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        confirmed_at INTEGER,
        updated_at INTEGER NOT NULL
      );
      INSERT INTO uploads_v4 (id, owner_id, key, content_type, status, max_bytes, declared_size, size, created_at, expires_at, confirmed_at, updated_at)
        SELECT id, owner_id, key, content_type, status, max_bytes, declared_size, size, created_at, expires_at, confirmed_at, updated_at FROM uploads;
      DROP TABLE uploads;
      ALTER TABLE uploads_v4 RENAME TO uploads;
      CREATE INDEX uploads_pending_expiry ON uploads (expires_at) WHERE status = 'pending';
      CREATE INDEX uploads_owner_confirmed ON uploads (owner_id, confirmed_at) WHERE status = 'confirmed';
      CREATE INDEX uploads_leftovers ON uploads (expires_at) WHERE status NOT IN ('pending', 'expired') AND updated_at < expires_at;
      CREATE TABLE outbox_v4 (
        id TEXT PRIMARY KEY,
        upload_id TEXT NOT NULL REFERENCES uploads (id),
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status = 'pending' OR status = 'delivered' OR status = 'dead'),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_until INTEGER,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        delivered_at INTEGER
      );
      INSERT INTO outbox_v4 (id, upload_id, type, payload, status, attempts, next_attempt_at, lease_until, last_error, created_at, delivered_at)
        SELECT id, upload_id, type, payload, status, attempts, next_attempt_at, lease_until, last_error, created_at, delivered_at FROM outbox;
      DROP TABLE outbox;
      ALTER TABLE outbox_v4 RENAME TO outbox;
      CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
    `
  },
  {
    version: 5,
    // What completion published (dimensions, placeholder, variant keys), as JSON: read whole, never queried.
    sql: `
      ALTER TABLE uploads ADD COLUMN image TEXT;
    `
  },
  {
    version: 6,
    // Replacement orders by ticket issue time (RecordStore.listReplaceable, supersededBy), not confirmation time;
    // a DELETE removes its upload's undelivered events (deleteUpload), which supersededBy also looks up per upload.
    sql: `
      DROP INDEX uploads_owner_confirmed;
      CREATE INDEX uploads_owner_created ON uploads (owner_id, created_at) WHERE status = 'confirmed';
      CREATE INDEX outbox_upload ON outbox (upload_id);
    `
  },
  {
    version: 7,
    // The sweeper cleans every upload no longer pending once its ticket expired, and again after each later change
    // (RecordStore.listLeftovers): cleaned_at is NULL until it has. Rows from before are taken as cleaned (a
    // metadata-only default) except those the previous condition still listed; a new ticket's 0 is never read
    // (pending rows are not listed, and every status change sets the column).
    sql: `
      ALTER TABLE uploads ADD COLUMN cleaned_at INTEGER DEFAULT 0;
      UPDATE uploads SET cleaned_at = NULL WHERE status NOT IN ('pending', 'expired') AND updated_at < expires_at;
      DROP INDEX uploads_leftovers;
      CREATE INDEX uploads_leftovers ON uploads (expires_at) WHERE cleaned_at IS NULL AND status <> 'pending';
    `
  },
  {
    version: 8,
    // Retention and a store that grows: events listed and pruned by status in creation order (an event is
    // delivered after it was created), uploads that ended found by age (the pruner), and the count of events per
    // status kept by triggers, so that a /metrics scrape reads three rows instead of walking the outbox. The uploads
    // index names the two statuses it excludes: its condition is evaluated on every write (see version 4).
    sql: `
      CREATE INDEX outbox_status_created ON outbox (status, created_at, id);
      CREATE INDEX uploads_finished ON uploads (updated_at, id) WHERE status NOT IN ('pending', 'confirmed');
      CREATE TABLE outbox_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO outbox_counts (status, n)
        SELECT s.status, (SELECT count(*) FROM outbox WHERE outbox.status = s.status) FROM (SELECT 'pending' AS status UNION ALL SELECT 'delivered' UNION ALL SELECT 'dead') s;
      CREATE TRIGGER outbox_counts_insert AFTER INSERT ON outbox BEGIN
        UPDATE outbox_counts SET n = n + 1 WHERE status = new.status;
      END;
      CREATE TRIGGER outbox_counts_delete AFTER DELETE ON outbox BEGIN
        UPDATE outbox_counts SET n = n - 1 WHERE status = old.status;
      END;
      CREATE TRIGGER outbox_counts_update AFTER UPDATE OF status ON outbox WHEN new.status <> old.status BEGIN
        UPDATE outbox_counts SET n = n - 1 WHERE status = old.status;
        UPDATE outbox_counts SET n = n + 1 WHERE status = new.status;
      END;
    `
  }
]

/**
 * Foreign keys are off while migrations run (a table rebuild drops and renames tables others refer to, SQLite's
 * documented procedure) and checked before each commits.
 */
export function migrate (db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)')
  const done = new Set(db.prepare<[], { version: number }>('SELECT version FROM schema_migrations').all().map((r) => r.version))
  db.pragma('foreign_keys = OFF')
  for (const m of sqliteMigrations) {
    if (done.has(m.version)) continue
    db.transaction(() => {
      db.exec(m.sql)
      const broken = db.pragma('foreign_key_check') as unknown[]
      if (broken.length > 0) throw new Error(`schema migration ${m.version}: ${broken.length} rows refer to a row that does not exist (PRAGMA foreign_key_check lists them); nothing was changed`)
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, Date.now())
    }).immediate()
  }
  db.pragma('foreign_keys = ON')
}
