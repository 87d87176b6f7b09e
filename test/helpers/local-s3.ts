// `npm run s3:local` (scripts/local-s3.sh) as a newcomer runs it, and the production walk-through a browser and the
// main backend make against a service started with the variables it prints.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Test } from 'tap'
import { scratch } from './build.js'
import { postForm, type TicketUpload } from './form.js'
import { png } from './images.js'
import { freePort } from './webhook-receiver.js'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')

export interface LocalS3 { variables: Record<string, string>, stdout: string, stderr: string }

/**
 * Runs `npm run -s s3:local` on a free port in a scratch folder and stops the gateway when `t` ends. Undefined when
 * the Ceph binaries are missing: the test is then skipped, or failed under CI=true.
 */
export async function startLocalS3 (t: Test): Promise<LocalS3 | undefined> {
  const available = await run('bash', ['scripts/s3-gateway.sh', 'available'], { cwd: ROOT }).then(() => true, () => false)
  if (!available) {
    const why = 'the Ceph binaries are missing (apt-get install -y ceph-mon ceph-osd radosgw)'
    if (process.env.CI === 'true') t.fail(`!!! CI=true but ${why} !!!`)
    else t.plan(0, `SKIPPED: ${why}`)
    return undefined
  }
  const env = { ...process.env, LOCAL_S3_DIR: join(scratch(t, 'image-service-local-s3-'), 'gateway'), LOCAL_S3_PORT: String(await freePort()) }
  t.teardown(async () => { await run('bash', ['scripts/local-s3.sh', 'stop'], { cwd: ROOT, env }) })
  const { stdout, stderr } = await run('npm', ['run', '-s', 's3:local'], { cwd: ROOT, env })
  const variables: Record<string, string> = {}
  for (const line of stdout.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line)
    if (m !== null) variables[m[1]!] = m[2]!
  }
  return { variables, stdout, stderr }
}

interface Ticket { uploadId: string, publicUrl: string, upload: TicketUpload }

/**
 * Ticket (with the printed token) → the form posted to the gateway as a browser on another origin posts it → completion
 * → the public URL, read anonymously. Also: a form posted but not completed stays private at its staging key.
 */
export async function productionWalkThrough (t: Test, base: string, variables: Record<string, string>): Promise<void> {
  const token = variables.SERVICE_TOKENS!.split(',')[0]!
  const ticketFor = async (ownerId: string): Promise<Ticket> => {
    const res = await fetch(`${base}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ownerId, contentType: 'image/png' })
    })
    t.equal(res.status, 201, 'ticket issued with the printed SERVICE_TOKENS')
    return await res.json() as Ticket
  }
  const bucketUrl = `${variables.AWS_S3_ENDPOINT}/${variables.AWS_S3_BUCKET}`
  const ticket = await ticketFor('local-s3-user')
  t.equal(ticket.upload.url, bucketUrl, 'the form goes straight to the gateway\'s bucket')

  const origin = 'http://localhost:5173'
  const posted = await postForm(ticket.upload, png(40, 30), 'image/png', {}, { origin })
  t.equal(posted.status, 201, 'a browser\'s cross-origin form POST to the gateway is stored')
  t.equal(posted.headers.get('access-control-allow-origin'), '*', 'and the bucket\'s CORS lets the page read the answer')

  const completed = await fetch(`${base}/v1/uploads/${ticket.uploadId}/complete`, { method: 'POST', headers: { origin } })
  const body = await completed.json() as { status: string, url: string }
  t.equal(completed.status, 200, 'completion answers 200')
  t.equal(body.status, 'confirmed', 'and confirms the upload')
  t.equal(body.url, ticket.publicUrl, 'at the ticket\'s public URL')
  t.ok(body.url.startsWith(`${bucketUrl}/profile-images/`), 'which is in the bucket, under profile-images/')

  const image = await fetch(body.url)
  t.equal(image.status, 200, 'the public URL answers an anonymous GET')
  t.equal(image.headers.get('content-type'), 'image/png', 'with the image')

  const staged = await ticketFor('local-s3-other')
  t.equal((await postForm(staged.upload, png(), 'image/png')).status, 201, 'another form posted, not completed')
  const stagingUrl = `${bucketUrl}/${staged.upload.fields.key}`
  t.match(stagingUrl, /\/profile-images\/incoming\//, 'the form wrote the staging key')
  t.equal((await fetch(stagingUrl)).status, 403, 'which stays private to anonymous readers')
}
