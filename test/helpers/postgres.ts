// Real PostgreSQL for tests: each test gets its own schema, dropped when it ends. Without a reachable server the
// PostgreSQL tests skip with a notice, except under CI=true where they fail.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Test } from 'tap'

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** false when the server answers; otherwise the reason to skip (or, under CI, an error). */
export async function postgresUnavailable (): Promise<string | false> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
    return false
  } catch (err) {
    const reason = `PostgreSQL is not reachable at ${TEST_DATABASE_URL} (${(err as Error).message}); set TEST_DATABASE_URL`
    if (process.env.CI === 'true') throw new Error(`${reason}. CI=true: PostgreSQL tests must run.`)
    process.stderr.write(`!!! ${reason}: PostgreSQL tests SKIPPED !!!\n`)
    return reason
  } finally {
    await client.end().catch(() => {})
  }
}

/** Runs one statement on the test database outside the service (set-up, inspection). */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow> (sql: string, values: unknown[] = [], url = TEST_DATABASE_URL): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  try {
    return (await client.query<R>(sql, values)).rows
  } finally { await client.end() }
}

/** The URL of `base` with search_path set to `schema` (the store's documented way to pick a schema). */
export function withSchema (base: string, schema: string): string {
  const url = new URL(base)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return url.toString()
}

/** Creates a fresh schema for this test, dropped with everything in it on teardown; returns it and its DATABASE_URL. */
export async function testSchema (t: Test): Promise<{ schema: string, url: string }> {
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  await adminQuery(`CREATE SCHEMA ${schema}`)
  t.teardown(() => adminQuery(`DROP SCHEMA ${schema} CASCADE`))
  return { schema, url: withSchema(TEST_DATABASE_URL, schema) }
}
