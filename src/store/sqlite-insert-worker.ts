// The SQLite store's insert thread: ticket inserts commit here, on their own connection, so the event loop does not
// spend its time in SQLite and fsync. Every message queued when a batch starts joins it (one commit for all).
import Database from 'better-sqlite3'
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads'
import { configure, INSERT_UPLOAD, insertUploads, type UploadInsertRow } from './sqlite-connection.js'

export interface InsertRequest { seq: number, rows: UploadInsertRow[] }
/** `errors`: null when every row committed; else per row, null or the error's message and code. */
export interface InsertReply { seq: number, errors: Array<{ message: string, code?: string } | null> | null }

const port = parentPort
if (port === null) throw new Error('sqlite-insert-worker runs as a worker thread')
const db = new Database((workerData as { file: string }).file)
configure(db)
const insert = db.prepare<UploadInsertRow>(INSERT_UPLOAD)

port.on('message', (first: InsertRequest | 'close') => {
  if (first === 'close') { db.close(); port.close(); return }
  const requests = [first]
  let closing = false
  for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) {
    if (next.message === 'close') { closing = true; break }
    requests.push(next.message as InsertRequest)
  }
  const rows = requests.flatMap((r) => r.rows)
  const errors = insertUploads(db, insert, rows)
  let at = 0
  for (const r of requests) {
    const mine = errors?.slice(at, at + r.rows.length)
    at += r.rows.length
    const reply: InsertReply = {
      seq: r.seq,
      errors: mine === undefined || mine.every((e) => e === null) ? null : mine.map((e) => e === null ? null : { message: e.message, code: (e as { code?: string }).code })
    }
    port.postMessage(reply)
  }
  if (closing) { db.close(); port.close() }
})
