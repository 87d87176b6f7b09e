// What uploads leave behind once their ticket expired is deleted by the sweeper, whichever way the upload ended and
// whenever a delete failed (issue 16, item 9): a staged upload that landed just after the sweeper expired its
// ticket, a staging object left by a delete that failed after the expiry, an image left by a DELETE whose object
// delete failed. Development (the local folder) and production (radosgw). The tickets really expire (a second or
// two): what happens after the expiry is what differs. Stubs only inject the faults (a read that looks too early, a
// delete that fails).
import { HeadObjectCommand } from '@aws-sdk/client-s3'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { App } from '../../src/app.js'
import { AUTH, listen } from '../helpers/build.js'
import { postForm } from '../helpers/form.js'
import { html, png } from '../helpers/images.js'
import { createTestBucket, productionEnv, s3Target } from '../helpers/s3.js'
import { complete, createTicket, uploadStatus, type Ticket } from '../helpers/upload-flow.js'

const ENV = { UPLOAD_TTL_SECONDS: '2', UPLOAD_GRACE_SECONDS: '0' }

interface Setup {
  app: App
  base: string
  /** Whether the object at `key` exists (the local folder, or the bucket). */
  exists: (key: string) => Promise<boolean>
}

const staging = (key: string) => key.replace(/([^/]+)$/, 'incoming/$1')

async function development (t: Test): Promise<Setup> {
  const { app, base } = await listen(t, ENV)
  const dir = app.config.upload.dir
  const exists = async (key: string) => {
    const name = key.split('/').pop() ?? ''
    return existsSync(join(dir, key.includes('/incoming/') ? '.staging' : 'profile', name))
  }
  return { app, base, exists }
}

async function production (t: Test): Promise<Setup | undefined> {
  const target = s3Target(t)
  if (target === undefined) return undefined
  const { bucket, client } = await createTestBucket(t, target)
  const { app, base } = await listen(t, { ...productionEnv(target, bucket), ...ENV })
  const exists = async (key: string) => await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, (err: { $metadata?: { httpStatusCode?: number } }) => {
    if (err.$metadata?.httpStatusCode === 404) return false
    throw err
  })
  return { app, base, exists }
}

async function posted (s: Setup, image = png()): Promise<Ticket> {
  const ticket = await createTicket(s.base, 'owner-leftovers')
  const res = await postForm(ticket.upload, image, 'image/png')
  if (res.status !== 201) throw new Error(`form post: ${res.status} ${await res.text()}`)
  return ticket
}

const expiry = async (ticket: Ticket) => { await new Promise((resolve) => setTimeout(resolve, Date.parse(ticket.expiresAt) - Date.now() + 50)) }

/** Fault injection: `delete` fails while `failing` is true. */
function failingDeletes (app: App) {
  const state = { failing: true }
  const del = app.objects.delete.bind(app.objects)
  app.objects.delete = async (key) => {
    if (state.failing) throw new Error('storage unavailable')
    await del(key)
  }
  return state
}

for (const [mode, setup] of [['development', development], ['production (radosgw)', production]] as const) {
  t.test(`${mode}: a staged upload that landed just after the sweeper expired its ticket is deleted`, async (t) => {
    const s = await setup(t)
    if (s === undefined) return
    const ticket = await posted(s)
    await expiry(ticket)
    // The transfer began in time and landed just after the sweeper looked: its first read finds nothing.
    const read = s.app.objects.read.bind(s.app.objects)
    let early = true
    s.app.objects.read = async (key, max) => {
      if (early) { early = false; return undefined }
      return await read(key, max)
    }
    t.match(await s.app.sweeper.sweep(), { expired: 1, cleaned: 1 })
    t.equal(await uploadStatus(s.base, ticket.uploadId), 'expired')
    t.notOk(await s.exists(staging(ticket.key)), 'the staging object is deleted')
    t.match(await s.app.sweeper.sweep(), { cleaned: 0 }, 'once')
  })

  t.test(`${mode}: a staging object whose delete failed after the expiry is deleted by a later pass`, async (t) => {
    const s = await setup(t)
    if (s === undefined) return
    const ticket = await posted(s, html)
    await expiry(ticket)
    const deletes = failingDeletes(s.app)
    t.match(await s.app.sweeper.sweep(), { cleaned: 0 }, 'its delete failed, and cleaning it too')
    t.equal(await uploadStatus(s.base, ticket.uploadId), 'rejected', 'rejected all the same')
    t.ok(await s.exists(staging(ticket.key)), 'the staging object is still there')
    deletes.failing = false
    t.match(await s.app.sweeper.sweep(), { cleaned: 1 }, 'the next pass cleans it')
    t.notOk(await s.exists(staging(ticket.key)), 'the staging object is deleted')
    t.equal(await uploadStatus(s.base, ticket.uploadId), 'rejected', 'and it keeps its status')
  })

  t.test(`${mode}: a DELETE whose object delete failed, long after the expiry: the sweeper deletes the image`, async (t) => {
    const s = await setup(t)
    if (s === undefined) return
    const ticket = await posted(s)
    t.equal((await complete(s.base, ticket.uploadId)).status, 200)
    await expiry(ticket)
    t.match(await s.app.sweeper.sweep(), { cleaned: 1 }, 'cleaned once after the expiry')
    t.ok(await s.exists(ticket.key), 'the image is published')
    const deletes = failingDeletes(s.app)
    const res = await fetch(`${s.base}/v1/uploads/${ticket.uploadId}`, { method: 'DELETE', headers: AUTH })
    t.ok(res.status >= 500, `DELETE answers ${res.status}: the objects could not be deleted`)
    t.equal(await uploadStatus(s.base, ticket.uploadId), 'deleted', 'the upload is deleted')
    t.ok(await s.exists(ticket.key), 'its image is still there')
    deletes.failing = false
    t.match(await s.app.sweeper.sweep(), { cleaned: 1 }, 'the next pass cleans it, without a repeat DELETE')
    t.notOk(await s.exists(ticket.key), 'the image is deleted')
  })
}
