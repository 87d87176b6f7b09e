// Issue 2's bad input: each refusal is a clear 4xx and nothing becomes visible.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { App } from '../../src/app.js'
import { AUTH, build, listen } from '../helpers/build.js'
import { postForm, uploadForm, type TicketUpload } from '../helpers/form.js'
import { html, png, pngOfSize, svg } from '../helpers/images.js'

interface Ticket { uploadId: string, key: string, upload: TicketUpload, publicUrl: string }

async function ticket (app: App, body: object = { ownerId: 'u1', contentType: 'image/png' }): Promise<Ticket> {
  const res = await app.inject({ method: 'POST', url: '/v1/uploads', headers: AUTH, payload: body })
  if (res.statusCode !== 201) throw new Error(`ticket: ${res.statusCode} ${res.body}`)
  return res.json()
}

/** Files posted (staging), published, or in progress under the uploads folder. */
const files = (app: App) => ['.staging', 'profile', '.incoming'].flatMap((d) => readdirSync(join(app.config.upload.dir, d)))

/** The development upload endpoint answers as S3 does: its refusals are XML Error documents. */
async function s3Error (res: Response): Promise<{ type: string | null, code?: string, message?: string }> {
  const body = await res.text()
  const text = (name: string) => new RegExp(`^<\\?xml version="1\\.0" encoding="UTF-8"\\?>\\n<Error>.*<${name}>([^<]*)</${name}>.*</Error>$`, 's').exec(body)?.[1]
  return { type: res.headers.get('content-type'), code: text('Code'), message: text('Message') }
}

t.test('tokens', async (t) => {
  const app = await build(t, { SERVICE_TOKENS: 'old-token-0123456789,new-token-0123456789' })
  const body = { ownerId: 'u1', contentType: 'image/png' }
  const cases: Array<[string | undefined, number]> = [
    [undefined, 401], ['Bearer', 401], ['Bearer wrong-token-0123456789', 401], ['Basic b2xkLXRva2Vu', 401],
    ['Bearer old-token-0123456789', 201], ['Bearer new-token-0123456789', 201]
  ]
  for (const [authorization, status] of cases) {
    const res = await app.inject({ method: 'POST', url: '/v1/uploads', headers: authorization ? { authorization } : {}, payload: body })
    t.equal(res.statusCode, status, `${authorization ?? 'no header'} → ${status}`)
    if (status === 401) t.match(res.json(), { code: 'UNAUTHORIZED', message: /Bearer/ })
  }
})

t.test('ticket body', async (t) => {
  const app = await build(t, { MAX_UPLOAD_BYTES: '1000' })
  const cases: Array<[unknown, number, RegExp]> = [
    [{ ownerId: 'u1', contentType: 'image/png', extra: 1 }, 400, /additional properties "extra"/],
    [{ ownerId: 1, contentType: 'image/png' }, 400, /ownerId must be string/],
    [{ contentType: 'image/png' }, 400, /ownerId/],
    [{ ownerId: 'u1', contentType: 'image/png', contentLength: '10' }, 400, /contentLength must be integer/],
    [{ ownerId: 'u1', contentType: 'image/svg+xml' }, 400, /contentType "image\/svg\+xml".*image\/png/],
    [{ ownerId: 'u1', contentType: 'text/html' }, 400, /contentType "text\/html"/],
    [{ ownerId: 'u1', contentType: 'application/pdf' }, 400, /contentType/],
    [{ ownerId: 'u1', contentType: 'image/png', contentLength: 1001 }, 413, /contentLength 1001 exceeds MAX_UPLOAD_BYTES \(1000\)/],
    ['not json', 400, /JSON/]
  ]
  for (const [payload, status, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/v1/uploads', headers: { ...AUTH, 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) })
    t.equal(res.statusCode, status, JSON.stringify(payload))
    t.match(res.json().message, message)
    t.type(res.json().code, 'string')
  }
})

t.test('form POSTs that break the policy store nothing', async (t) => {
  const { app } = await listen(t, { MAX_UPLOAD_BYTES: '4096' })
  const image = png()
  const a = await ticket(app)
  const b = await ticket(app, { ownerId: 'u1', contentType: 'image/jpeg' })
  const tamper = (fields: Record<string, string>, name: string, value: string) => ({ ...a.upload, fields: { ...fields, [name]: value } })
  const flipped = a.upload.fields['X-Amz-Signature']!.replace(/^./, (c) => (c === '0' ? '1' : '0'))
  // S3's status and Code; the Message says what was wrong (test/routes/s3-answers.test.ts checks every word).
  const cases: Array<[string, () => Promise<Response>, number, string, RegExp]> = [
    ['tampered signature', () => postForm(tamper(a.upload.fields, 'X-Amz-Signature', flipped), image, 'image/png'), 403, 'SignatureDoesNotMatch', /signature/],
    ['other key', () => postForm(tamper(a.upload.fields, 'key', b.upload.fields.key!), image, 'image/png'), 403, 'AccessDenied', /Invalid according to Policy: .*"key"/],
    ['the public key', () => postForm(tamper(a.upload.fields, 'key', a.key), image, 'image/png'), 403, 'AccessDenied', /"key"/],
    ['key with traversal', () => postForm(tamper(a.upload.fields, 'key', 'profile-images/../../x.png'), image, 'image/png'), 403, 'AccessDenied', /"key"/],
    ['other content type', () => postForm(tamper(a.upload.fields, 'Content-Type', 'image/jpeg'), image, 'image/jpeg'), 403, 'AccessDenied', /"content-type"/],
    ['a field the policy does not cover', () => postForm(a.upload, image, 'image/png', { acl: 'public-read-write' }), 403, 'AccessDenied', /"acl" is not allowed/],
    ['policy of another ticket', () => postForm(tamper(a.upload.fields, 'Policy', b.upload.fields.Policy!), image, 'image/png'), 403, 'SignatureDoesNotMatch', /signature/],
    ['too many bytes', () => postForm(a.upload, pngOfSize(8000), 'image/png'), 400, 'EntityTooLarge', /at most 4096 bytes/],
    ['no file part', async () => {
      const form = new FormData()
      for (const [k, v] of Object.entries(a.upload.fields)) form.append(k, v)
      return await fetch(a.upload.url, { method: 'POST', body: form })
    }, 400, 'InvalidArgument', /exactly one file/],
    ['several file parts', async () => {
      const form = uploadForm(a.upload, image, 'image/png')
      form.append('file', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'second')
      return await fetch(a.upload.url, { method: 'POST', body: form })
    }, 400, 'InvalidArgument', /exactly one file/],
    ['missing fields', async () => {
      const form = new FormData()
      form.append('file', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'x')
      return await fetch(a.upload.url, { method: 'POST', body: form })
    }, 400, 'InvalidArgument', /no "Policy" field/],
    ['not multipart', () => fetch(a.upload.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }), 412, 'PreconditionFailed', /multipart\/form-data/]
  ]
  for (const [name, send, status, code, message] of cases) {
    const res = await send()
    t.equal(res.status, status, name)
    const body = await s3Error(res)
    t.match(body.type, /^application\/xml\b/, `${name}: XML`)
    t.equal(body.code, code, `${name}: ${code}`)
    t.match(body.message, message, `${name}: ${body.message}`)
    t.same(files(app), [], `${name}: nothing stored`)
  }
  const done = await app.inject({ method: 'POST', url: `/v1/uploads/${a.uploadId}/complete` })
  t.equal(done.statusCode, 409, 'completion after refused uploads')
})

t.test('expired ticket', async (t) => {
  const { app } = await listen(t, { UPLOAD_TTL_SECONDS: '1', UPLOAD_GRACE_SECONDS: '0' })
  const a = await ticket(app)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const res = await postForm(a.upload, png(), 'image/png')
  t.equal(res.status, 403)
  t.match(await s3Error(res), { code: 'AccessDenied', message: /^Invalid according to Policy: Policy expired\./ })
  t.same(files(app), [])
  const done = await app.inject({ method: 'POST', url: `/v1/uploads/${a.uploadId}/complete` })
  t.equal(done.statusCode, 410, 'completion of an expired, never-used ticket')
  t.equal((await app.inject({ url: `/v1/uploads/${a.uploadId}`, headers: AUTH })).json().status, 'expired')
})

t.test('within UPLOAD_GRACE_SECONDS a late transfer still counts', async (t) => {
  const { app } = await listen(t, { UPLOAD_TTL_SECONDS: '1', UPLOAD_GRACE_SECONDS: '60' })
  const a = await ticket(app)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  t.equal((await app.inject({ method: 'POST', url: `/v1/uploads/${a.uploadId}/complete` })).statusCode, 410, 'nothing there yet: expired')
  t.equal((await app.inject({ url: `/v1/uploads/${a.uploadId}`, headers: AUTH })).json().status, 'pending', 'not final during the grace period')
  // A transfer that began before expiry lands now (placed directly: the form itself is refused after expiry).
  await app.objects.put(app.objects.uploadedKey(a.key), png(), 'image/png')
  t.equal((await app.inject({ method: 'POST', url: `/v1/uploads/${a.uploadId}/complete` })).statusCode, 200, 'confirmed')
})

t.test('an aborted upload leaves nothing behind', async (t) => {
  const { app } = await listen(t)
  const a = await ticket(app)
  const controller = new AbortController()
  const big = pngOfSize(2 * 1024 * 1024)
  let sent = 0
  const body = new ReadableStream<Uint8Array>({
    async pull (c) {
      const form = new Response(uploadForm(a.upload, big, 'image/png'))
      const reader = form.body!.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        c.enqueue(value)
        sent += value.length
        // Abort once part of the file is on its way.
        if (sent > 512 * 1024) { controller.abort(); break }
      }
    }
  })
  const whole = new Response(uploadForm(a.upload, big, 'image/png'))
  const contentType = whole.headers.get('content-type')!
  // With its length, as a browser sends a form (the endpoint refuses a body without one, as S3 does).
  const length = String((await whole.arrayBuffer()).byteLength)
  await t.rejects(fetch(a.upload.url, { method: 'POST', body, headers: { 'content-type': contentType, 'content-length': length }, signal: controller.signal, duplex: 'half' } as RequestInit))
  // The server notices the reset asynchronously: wait until the temporary file is gone (bounded).
  for (let i = 0; i < 50 && files(app).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(files(app), [], 'no partial file')
})

t.test('HTML bytes declared as PNG: accepted, completion 422, file gone', async (t) => {
  const { app } = await listen(t)
  for (const bytes of [html, svg]) {
    const a = await ticket(app)
    t.equal((await postForm(a.upload, bytes, 'image/png')).status, 201)
    t.equal(files(app).length, 1)
    const done = await app.inject({ method: 'POST', url: `/v1/uploads/${a.uploadId}/complete` })
    t.equal(done.statusCode, 422)
    t.match(done.json(), { code: 'NOT_AN_IMAGE', message: /declared image\/png/ })
    t.same(files(app), [], 'removed')
    t.equal((await app.inject({ url: `/v1/uploads/${a.uploadId}`, headers: AUTH })).json().status, 'rejected')
    t.equal((await app.inject({ method: 'POST', url: `/v1/uploads/${a.uploadId}/complete` })).statusCode, 422, 'stays rejected')
  }
})

t.test('a confirmed image cannot be swapped by re-posting the form', async (t) => {
  const { app } = await listen(t)
  const image = png()
  const a = await ticket(app)
  t.equal((await postForm(a.upload, image, 'image/png')).status, 201)
  t.equal((await app.inject({ method: 'POST', url: `/v1/uploads/${a.uploadId}/complete` })).statusCode, 200)
  const published = await app.inject({ url: `/uploads/profile/${a.key.split('/')[1]}` })
  t.equal(published.statusCode, 200)
  // As on S3, the form stays valid until the ticket expires: a re-post lands at the private staging key only.
  const again = await postForm(a.upload, html, 'image/png')
  t.equal(again.status, 201)
  const done = await app.inject({ method: 'POST', url: `/v1/uploads/${a.uploadId}/complete` })
  t.equal(done.statusCode, 200, 'completion is idempotent: the confirmed image stays')
  const served = await app.inject({ url: `/uploads/profile/${a.key.split('/')[1]}` })
  t.ok(served.rawPayload.equals(published.rawPayload), 'the published bytes are still served')
  t.notMatch(served.body, /<html/i, 'never the re-posted bytes')
  t.same(readdirSync(join(app.config.upload.dir, '.incoming')), [], 'no temporary file left')
})

t.test('unknown ids and malformed ids', async (t) => {
  const app = await build(t)
  t.equal((await app.inject({ method: 'POST', url: '/v1/uploads/upl_AAAAAAAAAAAAAAAAAAAAAA/complete' })).statusCode, 404)
  t.equal((await app.inject({ url: '/v1/uploads/upl_AAAAAAAAAAAAAAAAAAAAAA', headers: AUTH })).statusCode, 404)
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/uploads/upl_AAAAAAAAAAAAAAAAAAAAAA', headers: AUTH })).statusCode, 404)
  const bad = await app.inject({ method: 'POST', url: '/v1/uploads/nope/complete' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /uploadId/)
})

t.test('path traversal in /uploads/profile/ never reaches outside the folder', async (t) => {
  const { app, base } = await listen(t)
  const paths = ['../../package.json', '..%2f..%2fpackage.json', '%2e%2e%2f%2e%2e%2fpackage.json', '%2e%2e/%2e%2e/package.json', 'a.png%00.txt', '%00', '.incoming', '..', '%2e%2e', '....//package.json', '..%5c..%5cpackage.json']
  for (const p of paths) {
    // fetch would normalise ../ itself; send the raw path with node:http.
    const status = await new Promise<number>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request(`${base}/uploads/profile/${p}`, { method: 'GET' }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
        req.on('error', reject)
        req.end()
      }, reject)
    })
    t.ok(status >= 400 && status < 500, `${p} → ${status}`)
  }
  t.equal(files(app).length, 0)
})

t.test('5xx never echo internals', async (t) => {
  const app = await build(t)
  const failing = new Error('SQLITE_CORRUPT: secret path /var/lib/x')
  app.records.getUpload = async () => { throw failing }
  const res = await app.inject({ method: 'POST', url: '/v1/uploads/upl_AAAAAAAAAAAAAAAAAAAAAA/complete' })
  t.equal(res.statusCode, 500)
  t.same(res.json(), { statusCode: 500, error: 'Internal Server Error', code: 'INTERNAL', message: 'internal error' })
  app.records.getUpload = async () => { throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' }) }
  const down = await app.inject({ method: 'POST', url: '/v1/uploads/upl_AAAAAAAAAAAAAAAAAAAAAA/complete' })
  t.equal(down.statusCode, 503, 'an unreachable database is worth a retry')
  t.notMatch(down.body, /10\.0\.0\.5/)
})
