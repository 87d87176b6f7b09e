// The SQLite store's ticket INSERTs: a batch of tickets (one group commit, sqlite.ts) as few statements as possible.
// Per statement run, better-sqlite3 builds a result object and SQLite opens a cursor per index, so one run for many
// rows saves both per row (docs/performance.md). Positional parameters: binding by name looks each one up.
import type Database from 'better-sqlite3'
import { insertColumnList, INSERT_COLUMNS } from './columns.js'
import type { NewUpload } from './record-store.js'
import type { Pending } from './tick-batch.js'

type TicketValue = string | number | null
/** Tickets per INSERT statement: a batch (about 23 tickets under load, one per WAL flush) mostly fits in one. */
const ROWS_PER_INSERT = 32

export class SqliteTicketInserts {
  /** The INSERT of n tickets at [n], prepared when first needed. */
  readonly statements: Array<Database.Statement<[TicketValue[]]> | undefined> = []
  /** More tickets than one INSERT takes, in one transaction (made once: better-sqlite3 builds four wrappers per call). */
  private readonly many: (batch: Array<Pending<NewUpload>>) => void

  constructor (private readonly db: Database.Database, private readonly values: (u: NewUpload, into: unknown[]) => void) {
    this.many = db.transaction((batch: Array<Pending<NewUpload>>) => {
      for (let from = 0; from < batch.length; from += ROWS_PER_INSERT) this.rows(batch, from, Math.min(batch.length, from + ROWS_PER_INSERT))
    })
  }

  /** Inserts the batch in one transaction; returns the entries committed (one bad row is retried alone and rejected). */
  insert (batch: Array<Pending<NewUpload>>): Array<Pending<NewUpload>> {
    try {
      // Up to ROWS_PER_INSERT tickets are one statement, so one transaction without BEGIN and COMMIT.
      if (batch.length <= ROWS_PER_INSERT) this.rows(batch, 0, batch.length)
      else this.many(batch)
      return batch
    } catch {
      const committed: Array<Pending<NewUpload>> = []
      for (let i = 0; i < batch.length; i++) {
        try {
          this.rows(batch, i, i + 1)
          committed.push(batch[i] as Pending<NewUpload>)
        } catch (err) { batch[i]?.reject(err) }
      }
      return committed
    }
  }

  /** Tickets [from, to) of a batch with one INSERT of as many rows. */
  private rows (batch: Array<Pending<NewUpload>>, from: number, to: number): void {
    const values: TicketValue[] = []
    for (let i = from; i < to; i++) this.values((batch[i] as Pending<NewUpload>).item, values)
    const n = to - from
    const row = `(${INSERT_COLUMNS.map(() => '?').join(', ')})`
    const insert = this.statements[n] ??= this.db.prepare<[TicketValue[]]>(`INSERT INTO uploads (${insertColumnList}) VALUES ${Array.from({ length: n }, () => row).join(', ')}`)
    insert.run(values)
  }
}
