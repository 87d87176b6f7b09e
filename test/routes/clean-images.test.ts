// Clean images over real HTTP, in both modes with the same code: development (the service's own form endpoint and
// folder) and production (Ceph radosgw enforcing the presigned POST). Every published object is read back as the
// public reads it: no metadata, orientation applied, animations kept, variants of exact sizes; refusals publish
// nothing; variants go with their image (rejection, replacement, DELETE).
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import t, { type Test } from 'tap'
import type { App } from '../../src/app.js'
import { AUTH, listen, scratch } from '../helpers/build.js'
import { postForm } from '../helpers/form.js'
import { animatedGif, EXIF_FIXTURE, hasText, jpegWithExif, metadataBlocks, near, ORIENTATION_6_UPRIGHT, orientedJpeg, pixelAt, pixelBombPng, png, RED, truncate, withAppendedHtml } from '../helpers/images.js'
import { createTestBucket, productionEnv, s3Target } from '../helpers/s3.js'
import { eventually } from '../helpers/wait.js'
import { startReceiver, webhookEnv } from '../helpers/webhook-receiver.js'

interface Ticket { uploadId: string, key: string, publicUrl: string, upload: { url: string, fields: Record<string, string> } }
interface Confirmed { url: string, size: number, width: number, height: number, animated: boolean, placeholder: string, variants: Array<{ size: number, width: number, height: number, contentType: string, url: string }> }

interface Service {
  app: App
  base: string
  /** Every object the storage holds (development: files under uploads/; production: the bucket's keys). */
  objects: () => Promise<string[]>
}

type Mode = 'development' | 'production'

async function start (t: Test, mode: Mode, env: Record<string, string> = {}): Promise<Service | undefined> {
  if (mode === 'development') {
    const { app, base } = await listen(t, env)
    const dir = app.config.upload.dir
    const objects = async () => ['profile', '.staging'].flatMap((d) => readdirSync(join(dir, d)).map((f) => `${d}/${f}`))
    return { app, base, objects }
  }
  const target = s3Target(t)
  if (target === undefined) return undefined
  const { bucket, client } = await createTestBucket(t, target)
  const { app, base } = await listen(t, { ...productionEnv(target, bucket), ...env })
  const objects = async () => {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'profile-images/' }))
    // The readiness marker is the service's own.
    return (page.Contents ?? []).map((o) => o.Key ?? '').filter((k) => !k.includes('.image-service'))
  }
  return { app, base, objects }
}

async function ticket (s: Service, contentType: string, ownerId = 'owner-1'): Promise<Ticket> {
  const res = await fetch(`${s.base}/v1/uploads`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ ownerId, contentType }) })
  if (res.status !== 201) throw new Error(`ticket: ${res.status} ${await res.text()}`)
  return await res.json() as Ticket
}

/** Ticket, form POST, completion: the completion's answer. */
async function upload (s: Service, bytes: Buffer, contentType: string, ownerId = 'owner-1'): Promise<{ ticket: Ticket, status: number, body: Record<string, unknown> }> {
  const k = await ticket(s, contentType, ownerId)
  const posted = await postForm(k.upload, bytes, contentType)
  if (posted.status !== 201) throw new Error(`form: ${posted.status} ${await posted.text()}`)
  const res = await fetch(`${s.base}/v1/uploads/${k.uploadId}/complete`, { method: 'POST' })
  return { ticket: k, status: res.status, body: await res.json() as Record<string, unknown> }
}

const read = async (url: string) => {
  const res = await fetch(url)
  return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) }
}

for (const mode of ['development', 'production'] as const) {
  t.test(`${mode}: a phone JPEG's GPS and every other metadata block are gone from every published object`, async (t) => {
    const s = await start(t, mode)
    if (s === undefined) return
    const { status, body } = await upload(s, await jpegWithExif(800, 600), 'image/jpeg')
    t.equal(status, 200)
    const c = body as unknown as Confirmed
    t.match(c, { width: 800, height: 600, animated: false, contentType: 'image/jpeg' })
    for (const url of [c.url, ...c.variants.map((v) => v.url)]) {
      const { status, bytes } = await read(url)
      t.equal(status, 200, `${url} is public`)
      t.match(await metadataBlocks(bytes), { exif: false, gps: false, xmp: false, iptc: false, icc: false, comments: false }, 'no metadata block')
      t.notOk(hasText(bytes, EXIF_FIXTURE.serial) || hasText(bytes, EXIF_FIXTURE.owner), 'neither the camera serial nor the owner')
    }
    t.same(c.variants.map((v) => [v.size, v.width, v.height, v.contentType]), [64, 128, 256, 512].map((n) => [n, n, n, 'image/webp']), 'variants of exact sizes')
    for (const v of c.variants) t.match(await sharp((await read(v.url)).bytes).metadata(), { format: 'webp', width: v.size, height: v.size }, `variant ${v.size} as announced`)
  })

  t.test(`${mode}: orientation applied; animation kept in the main image, first frame in the variants; HTML after the image dropped`, async (t) => {
    const s = await start(t, mode)
    if (s === undefined) return
    const turned = (await upload(s, await orientedJpeg(6), 'image/jpeg')).body as unknown as Confirmed
    t.match(turned, { width: ORIENTATION_6_UPRIGHT.width, height: ORIENTATION_6_UPRIGHT.height }, 'upright')
    const main = (await read(turned.url)).bytes
    t.ok(near(await pixelAt(main, ORIENTATION_6_UPRIGHT.redAt.x, ORIENTATION_6_UPRIGHT.redAt.y), RED), 'the red block where upright puts it')

    const anim = (await upload(s, await animatedGif(3), 'image/gif')).body as unknown as Confirmed
    t.equal(anim.animated, true, 'animated')
    const served = await read(anim.url)
    t.equal(served.type, 'image/gif')
    t.equal((await sharp(served.bytes).metadata()).pages, 3, 'every frame published')
    for (const v of anim.variants) t.equal((await sharp((await read(v.url)).bytes).metadata()).pages ?? 1, 1, `variant ${v.size}: one frame`)

    const appended = (await upload(s, withAppendedHtml(png(16, 16)), 'image/png')).body as unknown as Confirmed
    t.notOk(hasText((await read(appended.url)).bytes, '<script'), 'the appended HTML is not published')
  })

  t.test(`${mode}: refusals are 422 with their own code, the upload rejected and nothing published`, async (t) => {
    const s = await start(t, mode)
    if (s === undefined) return
    const cases: Array<[string, Buffer, string, string, RegExp]> = [
      ['a pixel bomb', pixelBombPng(20000, 20000), 'image/png', 'TOO_MANY_PIXELS', /20,000 × 20,000 = 400,000,000 pixels; at most 40,000,000/],
      ['a truncated JPEG', truncate(await jpegWithExif(200, 200), 900), 'image/jpeg', 'IMAGE_CORRUPT', /corrupt or truncated/],
      ['an 8-byte PNG', png().subarray(0, 8), 'image/png', 'IMAGE_CORRUPT', /corrupt or truncated/],
      ['a 3-byte JPEG', Buffer.from([0xff, 0xd8, 0xff]), 'image/jpeg', 'IMAGE_CORRUPT', /corrupt or truncated/]
    ]
    for (const [name, bytes, contentType, code, message] of cases) {
      const { ticket: k, status, body } = await upload(s, bytes, contentType)
      t.equal(status, 422, `${name}: 422`)
      t.match(body, { code, message }, `${name}: ${code}`)
      t.not((await read(k.publicUrl)).status, 200, `${name}: nothing served`)
      const record = await (await fetch(`${s.base}/v1/uploads/${k.uploadId}`, { headers: AUTH })).json() as { status: string }
      t.equal(record.status, 'rejected', `${name}: rejected`)
    }
    t.same(await s.objects(), [], 'no object left: staging deleted, nothing published')
  })

  t.test(`${mode}: variants go with their image on replacement and DELETE`, async (t) => {
    const receiver = await startReceiver(t)
    const s = await start(t, mode, webhookEnv(receiver.url))
    if (s === undefined) return
    const first = (await upload(s, png(300, 200), 'image/png', 'owner-r')).body as unknown as Confirmed
    await receiver.waitFor(1)
    const latest = await upload(s, png(300, 200), 'image/png', 'owner-r')
    const second = latest.body as unknown as Confirmed
    await receiver.waitFor(2)
    await eventually(async () => (await read(first.url)).status !== 200 || undefined, { what: 'the replaced image to go' })
    for (const v of first.variants) t.not((await read(v.url)).status, 200, `replaced: variant ${v.size} gone`)
    for (const v of second.variants) t.equal((await read(v.url)).status, 200, `current: variant ${v.size} served`)
    t.equal((await fetch(`${s.base}/v1/uploads/${latest.ticket.uploadId}`, { method: 'DELETE', headers: AUTH })).status, 204)
    t.not((await read(second.url)).status, 200, 'DELETE: the image is gone')
    for (const v of second.variants) t.not((await read(v.url)).status, 200, `DELETE: variant ${v.size} gone`)
    t.same(await s.objects(), [], 'no object left')
  })
}

t.test('development: a completion that fails half-way publishes nothing it has not finished, and the next call finishes it', async (t) => {
  const { app, base } = await listen(t)
  // Fault injection: the main image's write fails once, after the variants were written.
  const storage = app.objects
  const put = storage.put.bind(storage)
  let failures = 1
  storage.put = async (key, body, contentType) => {
    if (!/-\d+\.webp$/.test(key) && failures-- > 0) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' })
    await put(key, body, contentType)
  }
  const s: Service = { app, base, objects: async () => [] }
  const first = await upload(s, png(64, 64), 'image/png')
  t.equal(first.status, 500, 'the failed write is a 500')
  t.notMatch(JSON.stringify(first.body), /disk full|ENOSPC/, 'that echoes nothing internal')
  t.equal((await read(first.ticket.publicUrl)).status, 404, 'no main image')
  t.equal((await (await fetch(`${base}/v1/uploads/${first.ticket.uploadId}`, { headers: AUTH })).json() as { status: string }).status, 'pending', 'still pending')
  const again = await fetch(`${base}/v1/uploads/${first.ticket.uploadId}/complete`, { method: 'POST' })
  t.equal(again.status, 200, 'the next call finishes it')
  const c = await again.json() as Confirmed
  for (const url of [c.url, ...c.variants.map((v) => v.url)]) t.equal((await read(url)).status, 200, `${url} in place`)
})

t.test('development: variants a failed completion wrote go even when IMAGE_VARIANTS changed before the next call', async (t) => {
  const dir = scratch(t)
  const env = { UPLOADS_DIR: join(dir, 'uploads'), DATA_DIR: join(dir, 'data'), IMAGE_VARIANT_FORMAT: 'webp' }
  const profile = () => readdirSync(join(dir, 'uploads', 'profile')).sort()
  // The first process writes the 64 and 128 variants, then fails on the main image (and stops).
  const one = await listen(t, { ...env, IMAGE_VARIANTS: '64,128' })
  const put = one.app.objects.put.bind(one.app.objects)
  one.app.objects.put = async (key, body, contentType) => {
    if (!/-\d+\.webp$/.test(key)) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' })
    await put(key, body, contentType)
  }
  const first = await upload({ app: one.app, base: one.base, objects: async () => [] }, png(200, 200), 'image/png')
  t.equal(first.status, 500)
  t.equal(profile().length, 2, 'two variants were written before the failure')
  await one.app.close()
  // The next process makes only a 32 variant.
  const two = await listen(t, { ...env, IMAGE_VARIANTS: '32' })
  const done = await fetch(`${two.base}/v1/uploads/${first.ticket.uploadId}/complete`, { method: 'POST' })
  t.equal(done.status, 200, 'the next call finishes it')
  const c = await done.json() as Confirmed
  t.same(c.variants.map((v) => v.size), [32])
  const stem = first.ticket.key.split('/').pop()!.replace(/\.png$/, '')
  t.same(profile(), [`${stem}-32.webp`, `${stem}.png`].sort(), 'the 64 and 128 variants nothing records are gone')
  t.equal((await fetch(`${two.base}/v1/uploads/${first.ticket.uploadId}`, { method: 'DELETE', headers: AUTH })).status, 204)
  t.same(profile(), [], 'DELETE leaves nothing')
})

t.test('development: beyond the processing queue, completion answers 503 BUSY with Retry-After', async (t) => {
  const { base } = await listen(t, { IMAGE_CONCURRENCY: '1', IMAGE_QUEUE_LIMIT: '0' })
  const s: Service = { base, app: undefined as unknown as App, objects: async () => [] }
  const image = await jpegWithExif(3000, 2000)
  const tickets = await Promise.all(Array.from({ length: 4 }, async () => await ticket(s, 'image/jpeg')))
  for (const k of tickets) t.equal((await postForm(k.upload, image, 'image/jpeg')).status, 201)
  const answers = await Promise.all(tickets.map(async (k) => await fetch(`${base}/v1/uploads/${k.uploadId}/complete`, { method: 'POST' })))
  const busy = answers.filter((r) => r.status === 503)
  t.ok(answers.some((r) => r.status === 200), 'the first is processed')
  t.ok(busy.length > 0, 'the others, arriving while it runs, are refused')
  for (const r of busy) {
    t.equal(r.headers.get('retry-after'), '2', 'with Retry-After')
    t.match(await r.json(), { code: 'BUSY', message: /IMAGE_CONCURRENCY 1, IMAGE_QUEUE_LIMIT 0/ })
  }
  for (const k of tickets) {
    const res = await fetch(`${base}/v1/uploads/${k.uploadId}/complete`, { method: 'POST' })
    t.equal(res.status, 200, 'a retry later succeeds')
  }
})
