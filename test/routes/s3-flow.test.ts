// Production mode against a real S3 server (Ceph radosgw) that enforces POST policies: the browser's form POST
// with Node's fetch/FormData to the private staging key, completion (which publishes the ticket's key), anonymous
// reads, and every refusal. Assertions are on status codes (RGW's messages differ from AWS's).
import { GetObjectCommand, HeadObjectCommand, PutBucketPolicyCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import sharp from 'sharp'
import t, { type Test } from 'tap'
import { AUTH, listen } from '../helpers/build.js'
import { postForm } from '../helpers/form.js'
import { html, png, pngOfSize } from '../helpers/images.js'
import { createTestBucket, guidePolicies, OTHER_CREDENTIALS, s3Target, productionEnv } from '../helpers/s3.js'

interface Ticket { uploadId: string, key: string, publicUrl: string, expiresAt: string, maxBytes: number, upload: { url: string, fields: Record<string, string> } }

async function production (t: Test, env: Record<string, string> = {}, opts: { guidePolicies?: boolean } = {}) {
  const target = s3Target(t)
  if (target === undefined) return undefined
  const { bucket, client } = await createTestBucket(t, target)
  // The service as a user that holds only the guide's IAM policy on the bucket (radosgw has no IAM: a bucket policy
  // grants it), not the bucket's owner.
  const keys = opts.guidePolicies === true ? OTHER_CREDENTIALS : target
  if (opts.guidePolicies === true) await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: guidePolicies(bucket, 'other') }))
  const { app, base } = await listen(t, { ...productionEnv(target, bucket, keys), ...env })
  const ticket = async (contentType = 'image/png'): Promise<Ticket> => {
    const res = await fetch(`${base}/v1/uploads`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ ownerId: 'user-1', contentType }) })
    t.equal(res.status, 201, 'ticket issued')
    return await res.json() as Ticket
  }
  const complete = async (id: string) => await fetch(`${base}/v1/uploads/${id}/complete`, { method: 'POST' })
  return { app, base, bucket, client, target, ticket, complete }
}

/** Where the form writes: `{prefix}incoming/{file}` for the ticket's `{prefix}{file}`. */
const stagingOf = (key: string) => key.replace(/([^/]+)$/, 'incoming/$1')

async function stored (client: S3Client, bucket: string, key: string): Promise<number> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    return 200
  } catch (err) { return (err as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode }
}

t.test('create → form POST to S3 → 201 → complete → public URL readable anonymously → confirmed', async (t) => {
  const s = await production(t)
  if (s === undefined) return
  const image = png(16, 16)
  const ticket = await s.ticket()
  t.equal(ticket.upload.url, `${s.target.endpoint}/${s.bucket}`, 'the form goes to the bucket')
  t.equal(ticket.publicUrl, `${s.target.endpoint}/${s.bucket}/${ticket.key}`, 'the endpoint\'s own path-style URL')
  t.match(ticket.upload.fields, { key: stagingOf(ticket.key), 'Content-Type': 'image/png', success_action_status: '201', bucket: s.bucket }, 'the signed fields: the staging key')
  t.notOk('acl' in ticket.upload.fields, 'no acl: the staging object stays private')

  t.equal((await s.complete(ticket.uploadId)).status, 409, 'completion before the upload')
  const posted = await postForm(ticket.upload, image, 'image/png')
  t.equal(posted.status, 201, 'S3 accepts the form')
  t.equal(await stored(s.client, s.bucket, ticket.key), 404, 'nothing at the public key before completion')
  t.not((await fetch(`${s.target.endpoint}/${s.bucket}/${stagingOf(ticket.key)}`)).status, 200, 'the staging object is private')

  const done = await s.complete(ticket.uploadId)
  t.equal(done.status, 200, 'completion 200')
  const confirmed = await done.json() as { url: string, size: number, status: string, contentType: string, variants: Array<{ size: number, width: number, url: string }> }
  t.match(confirmed, { uploadId: ticket.uploadId, status: 'confirmed', key: ticket.key, url: ticket.publicUrl, contentType: 'image/png', width: 16, height: 16, animated: false, placeholder: /^[A-Za-z0-9+/]+=*$/ }, 'confirmed with the public URL')
  t.same(confirmed.variants.map((v) => [v.size, v.width]), [[64, 16], [128, 16], [256, 16], [512, 16]], 'a variant per size, never upscaled')
  t.same(await (await s.complete(ticket.uploadId)).json(), confirmed, 'idempotent')
  t.equal(await stored(s.client, s.bucket, stagingOf(ticket.key)), 404, 'the staging object was removed')

  const anonymous = await fetch(confirmed.url)
  t.equal(anonymous.status, 200, 'public-read: anonymous GET succeeds')
  t.equal(anonymous.headers.get('content-type'), 'image/png', 'served as the declared type')
  t.equal(anonymous.headers.get('cache-control'), 'public, max-age=31536000, immutable', 'cacheable for good (keys are never reused)')
  const published = Buffer.from(await anonymous.arrayBuffer())
  t.equal(published.length, confirmed.size, 'size: the published bytes')
  t.match(await sharp(published).metadata(), { format: 'png', width: 16, height: 16 }, 'a re-encoded PNG')
  for (const v of confirmed.variants) {
    const res = await fetch(v.url)
    t.equal(res.status, 200, `variant ${v.size}: public-read`)
    t.equal(res.headers.get('content-type'), 'image/webp', `variant ${v.size}: image/webp`)
  }

  const record = await fetch(`${s.base}/v1/uploads/${ticket.uploadId}`, { headers: AUTH })
  t.match(await record.json(), { status: 'confirmed', url: ticket.publicUrl, size: confirmed.size, width: 16, variants: confirmed.variants }, 'the record is confirmed')
  t.equal((await fetch(`${s.base}/ready`)).status, 200, 'ready: the bucket is reachable')

  t.equal((await fetch(`${s.base}/v1/uploads/${ticket.uploadId}`, { method: 'DELETE', headers: AUTH })).status, 204, 'DELETE 204')
  t.equal(await stored(s.client, s.bucket, ticket.key), 404, 'DELETE removes the object')
  for (const v of confirmed.variants) t.equal(await stored(s.client, s.bucket, new URL(v.url).pathname.replace(`/${s.bucket}/`, '')), 404, `and variant ${v.size}`)
})

t.test('refused by S3, nothing stored, completion 409', async (t) => {
  const s = await production(t, { MAX_UPLOAD_BYTES: '1024' })
  if (s === undefined) return
  const image = png(8, 8)
  const cases: Array<[string, (ticket: Ticket) => Promise<Response>, number, string?]> = [
    ['a file over MAX_UPLOAD_BYTES', (k) => postForm(k.upload, pngOfSize(2000), 'image/png'), 400],
    ['an empty file', (k) => postForm(k.upload, Buffer.alloc(0), 'image/png'), 400],
    ['another Content-Type than signed', (k) => postForm(k.upload, image, 'image/jpeg', { 'Content-Type': 'image/jpeg' }), 403],
    ['a tampered signature', (k) => postForm(k.upload, image, 'image/png', { 'X-Amz-Signature': (k.upload.fields['X-Amz-Signature'] ?? '').replace(/^./, (c) => (c === '0' ? '1' : '0')) }), 403],
    ['an acl the policy does not cover', (k) => postForm(k.upload, image, 'image/png', { acl: 'public-read' }), 403]
  ]
  for (const [name, post, status] of cases) {
    const ticket = await s.ticket()
    t.equal((await post(ticket)).status, status, `${name}: S3 answers ${status}`)
    t.equal(await stored(s.client, s.bucket, stagingOf(ticket.key)), 404, `${name}: nothing stored`)
    t.equal((await s.complete(ticket.uploadId)).status, 409, `${name}: completion 409`)
  }

  const ticket = await s.ticket()
  const other = stagingOf(ticket.key).replace(/[0-9a-f]{8}\./, '00000000.')
  t.equal((await postForm(ticket.upload, image, 'image/png', { key: other })).status, 403, 'another key: S3 answers 403')
  t.equal(await stored(s.client, s.bucket, other), 404, 'another key: nothing stored under it')
  t.equal((await postForm(ticket.upload, image, 'image/png', { key: ticket.key })).status, 403, 'the public key itself: S3 answers 403')
  t.equal(await stored(s.client, s.bucket, ticket.key), 404, 'the public key: nothing stored')
  t.equal((await s.complete(ticket.uploadId)).status, 409, 'another key: completion 409')
  // The same ticket still works once the form is right.
  t.equal((await postForm(ticket.upload, image, 'image/png')).status, 201, 'the unchanged form: 201')
  t.equal((await s.complete(ticket.uploadId)).status, 200, 'then completion 200')
})

t.test('an expired ticket: S3 refuses the form, completion says the ticket expired', async (t) => {
  const s = await production(t, { UPLOAD_TTL_SECONDS: '1' })
  if (s === undefined) return
  const ticket = await s.ticket()
  // Wait past the expiry (not a timing assertion: the policy must be stale when posted).
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(ticket.expiresAt) - Date.now()) + 1500))
  t.equal((await postForm(ticket.upload, png(), 'image/png')).status, 403, 'S3 refuses the expired policy')
  t.equal(await stored(s.client, s.bucket, stagingOf(ticket.key)), 404, 'nothing stored')
  // CONTRACT.md: 410 when the ticket expired before anything was uploaded (409 is for a live ticket).
  t.equal((await s.complete(ticket.uploadId)).status, 410, 'completion 410')
})

t.test('HTML uploaded as image/png: completion 422 and the object is deleted', async (t) => {
  const s = await production(t)
  if (s === undefined) return
  const ticket = await s.ticket()
  t.equal((await postForm(ticket.upload, html, 'image/png')).status, 201, 'S3 cannot see what the bytes are')
  t.equal(await stored(s.client, s.bucket, stagingOf(ticket.key)), 200, 'stored at the staging key until completion')
  t.equal((await s.complete(ticket.uploadId)).status, 422, 'completion 422')
  t.equal(await stored(s.client, s.bucket, stagingOf(ticket.key)), 404, 'the staging object is gone')
  t.equal(await stored(s.client, s.bucket, ticket.key), 404, 'nothing was published')
  t.not((await fetch(ticket.publicUrl)).status, 200, 'nothing to serve (403: anonymous callers cannot tell missing from private)')
  const record = await fetch(`${s.base}/v1/uploads/${ticket.uploadId}`, { headers: AUTH })
  t.match(await record.json(), { status: 'rejected' }, 'the record is rejected')
})

t.test('S3_ACL=none: no acl field, the object is stored but not anonymously readable', async (t) => {
  const s = await production(t, { S3_ACL: 'none' })
  if (s === undefined) return
  const image = png(8, 8)
  const ticket = await s.ticket()
  t.notOk('acl' in ticket.upload.fields, 'no acl in the form')
  t.equal((await postForm(ticket.upload, image, 'image/png', { acl: 'public-read' })).status, 403, 'a public-read acl the policy does not allow')
  t.equal((await postForm(ticket.upload, image, 'image/png')).status, 201, 'the form: 201')
  t.equal((await s.complete(ticket.uploadId)).status, 200, 'completion 200')
  t.equal((await fetch(ticket.publicUrl)).status, 403, 'private: anonymous GET is refused (a bucket policy would grant it)')
  const owner = await s.client.send(new GetObjectCommand({ Bucket: s.bucket, Key: ticket.key }))
  t.match(await sharp(Buffer.from(await owner.Body?.transformToByteArray() ?? [])).metadata(), { format: 'png', width: 8, height: 8 }, 'the owner reads it')
  await s.client.send(new PutBucketPolicyCommand({ Bucket: s.bucket, Policy: guidePolicies(s.bucket, 'other') }))
  t.equal((await fetch(ticket.publicUrl)).status, 200, 'the guide\'s bucket policy makes it public (docs/production.md)')
})

t.test('with only the guide\'s IAM policy (no ListBucket: S3 answers 403 for a missing key)', async (t) => {
  const s = await production(t, {}, { guidePolicies: true })
  if (s === undefined) return
  t.pass('the self-check passed: PutObject with the acl, GetObject, DeleteObject')
  t.equal((await fetch(`${s.base}/ready`)).status, 200, 'ready without HeadBucket or ListBucket')
  const ticket = await s.ticket()
  t.equal((await s.complete(ticket.uploadId)).status, 409, 'completion before the upload: 409, not a 500')
  t.equal((await postForm(ticket.upload, png(), 'image/png')).status, 201, 'the form: 201')
  t.equal((await s.complete(ticket.uploadId)).status, 200, 'completion 200')
  t.equal((await fetch(ticket.publicUrl)).status, 200, 'anonymous GET 200')

  const bad = await s.ticket()
  t.equal((await postForm(bad.upload, html, 'image/png')).status, 201, 'HTML as image/png: stored')
  t.equal((await s.complete(bad.uploadId)).status, 422, 'completion 422')
  t.equal(await stored(s.client, s.bucket, stagingOf(bad.key)), 404, 'and deleted')
})

t.test('the form posted again after confirmation never reaches the public image; the sweeper removes it', async (t) => {
  const s = await production(t, { UPLOAD_GRACE_SECONDS: '30' })
  if (s === undefined) return
  const image = png(16, 16)
  const ticket = await s.ticket()
  t.equal((await postForm(ticket.upload, image, 'image/png')).status, 201, 'the form: 201')
  t.equal((await s.complete(ticket.uploadId)).status, 200, 'completion 200')
  const original = Buffer.from(await (await fetch(ticket.publicUrl)).arrayBuffer())

  // The ticket is still valid: S3 accepts the same form again, with bytes nobody checks.
  t.equal((await postForm(ticket.upload, html, 'image/png')).status, 201, 'the same form with HTML: S3 accepts it (at the staging key)')
  const served = async () => {
    const res = await fetch(ticket.publicUrl)
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) }
  }
  const after = await served()
  t.equal(after.status, 200, 'the public URL still answers')
  t.ok(after.bytes.equals(original), 'with the published bytes')
  t.equal((await s.complete(ticket.uploadId)).status, 200, 'completion again: still 200')
  t.ok((await served()).bytes.equals(original), 'and still the published bytes')
  const record = await fetch(`${s.base}/v1/uploads/${ticket.uploadId}`, { headers: AUTH })
  t.match(await record.json(), { status: 'confirmed', size: original.length }, 'the record stays confirmed')
  t.equal(await stored(s.client, s.bucket, stagingOf(ticket.key)), 200, 'the re-post waits at the staging key')

  t.match(await s.app.sweeper.sweep(), { cleaned: 0 }, 'nothing is cleaned while the ticket is valid')
  const later = new Date(Date.parse(ticket.expiresAt) + 60_000)
  t.match(await s.app.sweeper.sweep(later), { cleaned: 1 }, 'once it expired (and the grace period passed), the sweeper cleans it')
  t.equal(await stored(s.client, s.bucket, stagingOf(ticket.key)), 404, 'the staging object is deleted')
  t.ok((await served()).bytes.equals(original), 'the public image stays')
  t.match(await (await fetch(`${s.base}/v1/uploads/${ticket.uploadId}`, { headers: AUTH })).json(), { status: 'confirmed' }, 'still confirmed')
  t.match(await s.app.sweeper.sweep(later), { cleaned: 0 }, 'a second pass finds nothing')
})

t.test('a rejected upload\'s form posted again: the sweeper deletes the staging object', async (t) => {
  const s = await production(t)
  if (s === undefined) return
  const ticket = await s.ticket()
  t.equal((await postForm(ticket.upload, html, 'image/png')).status, 201, 'HTML as image/png: stored')
  t.equal((await s.complete(ticket.uploadId)).status, 422, 'completion 422')
  t.equal((await postForm(ticket.upload, png(), 'image/png')).status, 201, 'the form again, within the ticket')
  t.equal((await s.complete(ticket.uploadId)).status, 422, 'a rejected upload stays rejected')
  t.equal(await stored(s.client, s.bucket, ticket.key), 404, 'nothing published')
  t.match(await s.app.sweeper.sweep(new Date(Date.parse(ticket.expiresAt) + 3_600_000)), { cleaned: 1 })
  t.equal(await stored(s.client, s.bucket, stagingOf(ticket.key)), 404, 'the staging object is deleted')
})

t.test('a completion that stopped after publishing, before its commit, is finished by the next one', async (t) => {
  const s = await production(t)
  if (s === undefined) return
  const ticket = await s.ticket()
  t.equal((await postForm(ticket.upload, png(16, 16), 'image/png')).status, 201, 'the form: 201')
  // What a crashed completion leaves: the public key written (here with other bytes), the staging object kept.
  await s.client.send(new PutObjectCommand({ Bucket: s.bucket, Key: ticket.key, Body: html, ContentType: 'image/png', ACL: 'public-read' }))
  const done = await s.complete(ticket.uploadId)
  t.equal(done.status, 200, 'completion 200')
  const published = Buffer.from(await (await fetch(ticket.publicUrl)).arrayBuffer())
  t.match(await sharp(published).metadata(), { format: 'png', width: 16 }, 'the key holds the processed image')
  t.equal(await stored(s.client, s.bucket, stagingOf(ticket.key)), 404, 'the staging object is removed')
})

t.test('S3 refuses to read the staging object (AccessDenied for a key the service may not read): 503 naming S3\'s code; the sweeper never expires it', async (t) => {
  const s = await production(t, { UPLOAD_GRACE_SECONDS: '0' }, { guidePolicies: true })
  if (s === undefined) return
  const ticket = await s.ticket()
  t.equal((await postForm(ticket.upload, png(), 'image/png')).status, 201, 'the form: 201')
  const unused = await s.ticket()
  // From now on the service's GetObject is denied (a wrong IAM policy): the bytes are there, it cannot read them.
  await s.client.send(new PutBucketPolicyCommand({ Bucket: s.bucket, Policy: guidePolicies(s.bucket, 'other', ['s3:GetObject']) }))
  for (const [name, id] of [['uploaded', ticket.uploadId], ['never uploaded', unused.uploadId]] as const) {
    const res = await s.complete(id)
    t.equal(res.status, 503, `${name}: 503, not "nothing uploaded"`)
    t.match(await res.json(), { code: 'UNAVAILABLE', message: /S3 answered AccessDenied/ }, `${name}: the message names S3's code`)
    t.ok(Number(res.headers.get('retry-after')) > 0, `${name}: Retry-After`)
  }
  const later = new Date(Date.parse(ticket.expiresAt) + 60_000)
  t.match(await s.app.sweeper.sweep(later), { confirmed: 0, expired: 0, rejected: 0 }, 'the sweeper settles nothing it cannot read')
  for (const id of [ticket.uploadId, unused.uploadId]) {
    const record = await fetch(`${s.base}/v1/uploads/${id}`, { headers: AUTH })
    t.match(await record.json(), { status: 'pending' }, 'still pending, not expired')
  }
  t.equal(await stored(s.client, s.bucket, stagingOf(ticket.key)), 200, 'the posted bytes are kept')

  await s.client.send(new PutBucketPolicyCommand({ Bucket: s.bucket, Policy: guidePolicies(s.bucket, 'other') }))
  t.equal((await s.complete(ticket.uploadId)).status, 200, 'once the policy is fixed: completion 200')
  t.equal((await s.complete(unused.uploadId)).status, 409, 'and nothing uploaded reads as such again')
})

t.test('a declared contentLength is the exact size S3 accepts', async (t) => {
  const s = await production(t)
  if (s === undefined) return
  const image = png(8, 8)
  const res = await fetch(`${s.base}/v1/uploads`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ ownerId: 'user-1', contentType: 'image/png', contentLength: image.length }) })
  t.equal(res.status, 201)
  const ticket = await res.json() as Ticket
  t.equal(ticket.maxBytes, image.length, 'maxBytes: the declared size')
  const range = (JSON.parse(Buffer.from(ticket.upload.fields.Policy ?? '', 'base64').toString()) as { conditions: unknown[] }).conditions.find((c) => Array.isArray(c) && c[0] === 'content-length-range')
  t.same(range, ['content-length-range', image.length, image.length], 'the policy\'s range is [contentLength, contentLength]')
  t.equal((await postForm(ticket.upload, pngOfSize(1 << 20), 'image/png')).status, 400, '1 MiB: S3 refuses it')
  t.equal((await postForm(ticket.upload, image.subarray(0, image.length - 1), 'image/png')).status, 400, 'one byte short: refused')
  t.equal(await stored(s.client, s.bucket, stagingOf(ticket.key)), 404, 'nothing stored')
  t.equal((await postForm(ticket.upload, image, 'image/png')).status, 201, 'the declared size: 201')
  t.equal((await s.complete(ticket.uploadId)).status, 200, 'completion 200')
})
