// Versioned schema of the PostgreSQL store, and migrate(), which applies it in order on start, each version in its own
// transaction, by one replica at a time (an advisory lock). Tables go into the first schema of the connection's search_path.
// Never edit a published migration: add the next version.
import type pg from 'pg'

export const postgresMigrations: ReadonlyArray<{ version: number, sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE uploads (
        id text PRIMARY KEY,
        owner_id text NOT NULL,
        key text NOT NULL UNIQUE,
        content_type text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending','confirmed','rejected','expired','replaced','deleted')),
        max_bytes bigint NOT NULL,
        declared_size bigint,
        size bigint,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        confirmed_at timestamptz,
        updated_at timestamptz NOT NULL
      );
      CREATE INDEX uploads_pending_expiry ON uploads (expires_at) WHERE status = 'pending';
      CREATE INDEX uploads_owner_confirmed ON uploads (owner_id, confirmed_at) WHERE status = 'confirmed';
      CREATE TABLE outbox (
        id text PRIMARY KEY,
        upload_id text NOT NULL REFERENCES uploads (id),
        type text NOT NULL,
        payload text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending','delivered','dead')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        lease_until timestamptz,
        last_error text,
        created_at timestamptz NOT NULL,
        delivered_at timestamptz
      );
      CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX outbox_upload ON outbox (upload_id);
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
    // What completion published (dimensions, placeholder, variant keys), as JSON: read whole, never queried.
    sql: `
      ALTER TABLE uploads ADD COLUMN image text;
    `
  },
  {
    version: 5,
    // Replacement orders by ticket issue time (RecordStore.listReplaceable, supersededBy), not confirmation time.
    sql: `
      DROP INDEX uploads_owner_confirmed;
      CREATE INDEX uploads_owner_created ON uploads (owner_id, created_at) WHERE status = 'confirmed';
    `
  },
  {
    version: 6,
    // The sweeper cleans every upload no longer pending once its ticket expired, and again after each later change
    // (RecordStore.listLeftovers): cleaned_at is NULL until it has. Rows from before are taken as cleaned (a default
    // set without rewriting the table, then dropped) except those the previous condition still listed.
    sql: `
      ALTER TABLE uploads ADD COLUMN cleaned_at timestamptz DEFAULT 'epoch';
      ALTER TABLE uploads ALTER COLUMN cleaned_at DROP DEFAULT;
      UPDATE uploads SET cleaned_at = NULL WHERE status IN ('confirmed', 'rejected', 'deleted', 'replaced') AND updated_at < expires_at;
      DROP INDEX uploads_leftovers;
      CREATE INDEX uploads_leftovers ON uploads (expires_at) WHERE cleaned_at IS NULL AND status <> 'pending';
    `
  },
  {
    version: 7,
    // Retention and a store that grows: events listed and pruned by status in creation order (an event is delivered
    // after it was created), uploads that ended found by age (the pruner), and the events per status as a ledger of
    // changes, one row per statement that changed a status, summed when read and folded now and then
    // (postgres-retention.ts): writers only ever insert into it, so no two transactions wait on one counter row.
    sql: `
      CREATE INDEX outbox_status_created ON outbox (status, created_at, id);
      CREATE INDEX uploads_finished ON uploads (updated_at, id) WHERE status NOT IN ('pending', 'confirmed');
      CREATE TABLE outbox_counts (status text NOT NULL, n bigint NOT NULL);
      INSERT INTO outbox_counts (status, n) SELECT status, count(*) FROM outbox GROUP BY status;
      CREATE FUNCTION outbox_counts_inserted () RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$ BEGIN
        INSERT INTO outbox_counts (status, n) SELECT status, count(*) FROM new_rows GROUP BY status;
        RETURN NULL;
      END $$;
      CREATE FUNCTION outbox_counts_deleted () RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$ BEGIN
        INSERT INTO outbox_counts (status, n) SELECT status, -count(*) FROM old_rows GROUP BY status;
        RETURN NULL;
      END $$;
      CREATE FUNCTION outbox_counts_updated () RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$ BEGIN
        INSERT INTO outbox_counts (status, n)
          SELECT status, sum(d) FROM (SELECT status, 1 AS d FROM new_rows UNION ALL SELECT status, -1 FROM old_rows) c GROUP BY status HAVING sum(d) <> 0;
        RETURN NULL;
      END $$;
      CREATE TRIGGER outbox_counts_inserted AFTER INSERT ON outbox REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION outbox_counts_inserted();
      CREATE TRIGGER outbox_counts_deleted AFTER DELETE ON outbox REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION outbox_counts_deleted();
      CREATE TRIGGER outbox_counts_updated AFTER UPDATE ON outbox REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION outbox_counts_updated();
    `
  }
]

export async function migrate (pool: pg.Pool): Promise<void> {
  const client = await pool.connect()
  client.on('error', () => {})
  try {
    // Waiting for another replica's migrations may take longer than one request's statement budget. This
    // session setting never reaches the pool: the connection is destroyed below.
    await client.query('SET statement_timeout = 0')
    const { rows: [current] } = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema')
    const schema = current?.schema
    if (schema == null) throw new Error('the first schema of search_path does not exist; create it (CREATE SCHEMA …) or fix the options parameter')
    // One lock per schema: replicas of one deployment take turns; separate schemas migrate independently.
    const lock = `image-service.migrations.${schema}`
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lock])
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())')
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations')
      const done = new Set(rows.map((r) => r.version))
      for (const m of postgresMigrations) {
        if (done.has(m.version)) continue
        await client.query('BEGIN')
        try {
          await client.query(m.sql)
          await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version])
          await client.query('COMMIT')
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {})
          throw new Error(`migration ${m.version} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
        }
      }
    } finally {
      // If this fails the connection is gone, and the lock went with its session.
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lock]).catch(() => {})
    }
  } finally {
    client.release(true)
  }
}
