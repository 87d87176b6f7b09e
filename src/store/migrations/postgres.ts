// Versioned schema of the PostgreSQL store; applied in order on start, each in its own transaction, by one replica
// at a time (postgres.ts holds an advisory lock). Tables go into the first schema of the connection's search_path.
// Never edit a published migration: add the next version.
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
    // The sweeper's leftovers: rejected, deleted or replaced while their ticket was still valid (Store.listLeftovers).
    sql: `
      CREATE INDEX uploads_leftovers ON uploads (expires_at) WHERE status IN ('rejected', 'deleted', 'replaced') AND updated_at < expires_at;
    `
  },
  {
    version: 3,
    // Confirmed while the ticket was valid is a leftover too: in production the form can be posted again to the
    // staging key after the confirmation (Storage.uploadedKey).
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
  }
]
