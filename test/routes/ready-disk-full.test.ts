// /ready reports what the service cannot do (issue 16, item 11): with the data folder (SQLite) and the uploads
// folder on a full disk, tickets and uploads fail, and /ready answers 503 naming the failing checks; once there is
// room again it answers 200. A real small tmpfs, filled by the test.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { listen } from '../helpers/build.js'
import { fill, tmpfs, tmpfsUnavailable } from '../helpers/tmpfs.js'
import { eventually } from '../helpers/wait.js'

interface Readiness { status: string, checks: Record<string, string> }

t.test('a full disk under the data and uploads folders: /ready is 503 and names the checks, 200 once freed', { skip: tmpfsUnavailable }, async (t) => {
  const disk = tmpfs(t, '2m')
  const { base } = await listen(t, { DATA_DIR: join(disk, 'data'), UPLOADS_DIR: join(disk, 'uploads'), MAX_UPLOAD_BYTES: '65536' })
  const ready = async () => {
    const res = await fetch(`${base}/ready`)
    return { status: res.status, body: await res.json() as Readiness }
  }
  t.match(await ready(), { status: 200, body: { status: 'ok', checks: { storage: 'ok', storageWrites: 'ok', database: 'ok', databaseWrites: 'ok' } } })

  const filler = fill(disk)
  const full = await eventually(async () => {
    const r = await ready()
    return r.status === 503 ? r : undefined
  }, { what: '/ready to answer 503' })
  t.match(full.body, { status: 'unavailable', checks: { storage: 'ok', storageWrites: 'failed', database: 'ok', databaseWrites: 'failed' } }, 'the failing checks are named')

  rmSync(filler)
  await eventually(async () => (await ready()).status === 200 || undefined, { what: '/ready to answer 200 again' })
  t.match(await ready(), { body: { status: 'ok', checks: { storageWrites: 'ok', databaseWrites: 'ok' } } })
})

t.test('less room than one upload of MAX_UPLOAD_BYTES: the uploads folder is not ready', { skip: tmpfsUnavailable }, async (t) => {
  const disk = tmpfs(t, '1m')
  const { base } = await listen(t, { UPLOADS_DIR: join(disk, 'uploads'), MAX_UPLOAD_BYTES: String(2 * 1024 * 1024) })
  const res = await fetch(`${base}/ready`)
  t.equal(res.status, 503)
  t.match(await res.json(), { checks: { storageWrites: 'failed', databaseWrites: 'ok' } })
})
