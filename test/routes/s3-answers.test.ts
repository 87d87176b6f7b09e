// The development upload endpoint answers as S3 answers a browser POST with success_action_status=201: an XML
// PostResponse with ETag and Location headers, and for each refusal S3's status and an XML Error with S3's Code.
import { createHmac } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import t from 'tap'
import type { App } from '../../src/app.js'
import { errorXml, postResponseXml, s3Refusal, xmlText } from '../../src/routes/s3-answers.js'
import type { LocalStorage } from '../../src/objects/local.js'
import { AUTH, build, listen } from '../helpers/build.js'
import { postForm, uploadForm, type TicketUpload } from '../helpers/form.js'
import { png, pngOfSize } from '../helpers/images.js'

interface Ticket { uploadId: string, key: string, upload: TicketUpload, publicUrl: string }

async function ticket (app: App, body: object = { ownerId: 'u1', contentType: 'image/png' }): Promise<Ticket> {
  const res = await app.inject({ method: 'POST', url: '/v1/uploads', headers: AUTH, payload: body })
  if (res.statusCode !== 201) throw new Error(`ticket: ${res.statusCode} ${res.body}`)
  return res.json()
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, '\'').replace(/&amp;/g, '&')
/** The text of the one element `name` directly inside the root `root` (a tiny reader: S3's documents are flat). */
function element (xml: string, root: string, name: string): string | undefined {
  const body = new RegExp(`^<\\?xml version="1\\.0" encoding="UTF-8"\\?>\\n<${root}>([\\s\\S]*)</${root}>$`).exec(xml)?.[1]
  if (body === undefined) return undefined
  const found = new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1]
  return found === undefined ? undefined : unescape(found)
}

interface S3Error { status: number, type: string | null, code?: string, message?: string, requestId?: string, requestIdHeader: string | null, body: string }
async function s3Error (res: Response): Promise<S3Error> {
  const body = await res.text()
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    code: element(body, 'Error', 'Code'),
    message: element(body, 'Error', 'Message'),
    requestId: element(body, 'Error', 'RequestId'),
    requestIdHeader: res.headers.get('x-request-id'),
    body
  }
}

// The documented ETag: CRC-32 (8 hex digits) then the length (24), in quotes; S3's shape, not an MD5.
const etagOf = (bytes: Buffer) => `"${crc32(bytes).toString(16).padStart(8, '0')}${bytes.length.toString(16).padStart(24, '0')}"`
/** Objects written by form posts (staging), published, or in progress. */
const files = (app: App) => ['.staging', 'profile', '.incoming'].flatMap((d) => readdirSync(join(app.config.upload.dir, d)))

/** Signs any policy text as the service does (development credentials), to reach the checks after the signature. */
function signed (app: App, fields: Record<string, string>, policyText: string): Record<string, string> {
  const [, shortDate = '', region = ''] = (fields['X-Amz-Credential'] ?? '').split('/')
  const hmac = (k: string | Buffer, data: string) => createHmac('sha256', k).update(data).digest()
  const key = hmac(hmac(hmac(hmac(`AWS4${app.config.upload.signingSecret}`, shortDate), region), 's3'), 'aws4_request')
  const Policy = Buffer.from(policyText).toString('base64')
  return { ...fields, Policy, 'X-Amz-Signature': createHmac('sha256', key).update(Policy).digest('hex') }
}

t.test('success: 201, application/xml, PostResponse with Location, Bucket, Key and ETag; ETag and Location headers', async (t) => {
  const { app } = await listen(t)
  const image = png(8, 8)
  const a = await ticket(app)
  const res = await postForm(a.upload, image, 'image/png')
  t.equal(res.status, 201)
  t.match(res.headers.get('content-type'), /^application\/xml\b/)
  const body = await res.text()
  t.ok(body.startsWith(`${XML_DECLARATION}<PostResponse><Location>`), 'the XML declaration, then PostResponse')
  t.equal(element(body, 'PostResponse', 'Location'), a.publicUrl, 'Location: the URL the image will have once completed')
  t.equal(element(body, 'PostResponse', 'Bucket'), 'local', 'Bucket: the local bucket the policy was signed for')
  t.equal(element(body, 'PostResponse', 'Bucket'), a.upload.fields.bucket)
  t.equal(element(body, 'PostResponse', 'Key'), a.upload.fields.key, 'Key: the posted key')
  t.match(element(body, 'PostResponse', 'Key'), /^profile-images\/incoming\/[0-9a-f]{32}\.png$/, 'a private staging key')
  t.equal(element(body, 'PostResponse', 'ETag'), etagOf(image), 'ETag: the CRC-32 and length of the posted bytes')
  t.match(element(body, 'PostResponse', 'ETag'), /^"[0-9a-f]{32}"$/, 'in the shape of S3\'s ETag')
  t.equal(res.headers.get('etag'), etagOf(image), 'ETag header')
  t.equal(res.headers.get('location'), a.publicUrl, 'Location header')
  t.equal(res.headers.get('x-amz-request-id'), res.headers.get('x-request-id'))
})

t.test('XML rendering escapes every value', async (t) => {
  t.equal(
    postResponseXml({ location: 'http://h/a?b=1&c=<2>', bucket: 'b&b', key: 'k/<x>&"y\'', etag: '"abc"' }),
    `${XML_DECLARATION}<PostResponse><Location>http://h/a?b=1&amp;c=&lt;2&gt;</Location><Bucket>b&amp;b</Bucket><Key>k/&lt;x&gt;&amp;"y'</Key><ETag>"abc"</ETag></PostResponse>`
  )
  t.equal(
    errorXml({ code: 'AccessDenied', message: 'field "</Message><Code>x" & more', requestId: 'r<1>' }),
    `${XML_DECLARATION}<Error><Code>AccessDenied</Code><Message>field "&lt;/Message&gt;&lt;Code&gt;x" &amp; more</Message><RequestId>r&lt;1&gt;</RequestId></Error>`
  )
  t.equal(xmlText('a\u0000b\u001bc\ud800d\uffffe\tf\ng😀'), 'a\ufffdb\ufffdc\ufffdd\ufffde\tf\ng😀', 'characters XML cannot carry are replaced')

  // Over HTTP: a field name from the form, echoed in the Message, stays text.
  const { app } = await listen(t)
  const a = await ticket(app)
  const res = await s3Error(await postForm(a.upload, png(), 'image/png', { 'x-<b>&': '1' }))
  t.equal(res.status, 403)
  t.equal(res.code, 'AccessDenied')
  t.match(res.message, /field "x-<b>&" is not allowed by the policy/)
  t.notMatch(res.body, /<b>/, 'no markup from the form in the document')
})

t.test('each refusal: S3\'s status and Code, a useful Message, application/xml; nothing stored', async (t) => {
  const { app } = await listen(t, { MAX_UPLOAD_BYTES: '4096' })
  const image = png()
  const a = await ticket(app)
  const b = await ticket(app, { ownerId: 'u1', contentType: 'image/jpeg' })
  const fields = a.upload.fields
  const flipped = fields['X-Amz-Signature']!.replace(/^./, (c) => (c === '0' ? '1' : '0'))
  const withFields = (f: Record<string, string>) => ({ url: a.upload.url, fields: f })
  const raw = async (body: BodyInit, contentType: string) => await fetch(a.upload.url, { method: 'POST', body, headers: { 'content-type': contentType } })
  const boundary = '----s3answers'
  const cases: Array<[string, () => Promise<Response>, number, string, RegExp]> = [
    ['tampered signature', () => postForm(withFields({ ...fields, 'X-Amz-Signature': flipped }), image, 'image/png'), 403, 'SignatureDoesNotMatch',
      /^The request signature we calculated does not match the signature you provided\. Check your key and signing method\. The policy signature does not match; post every field of upload\.fields unchanged/],
    ['another credential', () => postForm(withFields({ ...fields, 'X-Amz-Credential': fields['X-Amz-Credential']!.replace(/^local/, 'other') }), image, 'image/png'), 403, 'SignatureDoesNotMatch', /X-Amz-Credential/],
    ['another ticket\'s key', () => postForm(withFields({ ...fields, key: b.upload.fields.key! }), image, 'image/png'), 403, 'AccessDenied',
      /^Invalid according to Policy: the form does not satisfy the signed policy: field "key" must equal the value in upload\.fields$/],
    ['another Content-Type', () => postForm(withFields({ ...fields, 'Content-Type': 'image/jpeg' }), image, 'image/jpeg'), 403, 'AccessDenied', /^Invalid according to Policy: .*field "content-type"/],
    ['a field the policy does not cover', () => postForm(a.upload, image, 'image/png', { acl: 'public-read-write' }), 403, 'AccessDenied', /^Invalid according to Policy: .*field "acl" is not allowed by the policy; send only the fields of upload\.fields/],
    ['too many bytes', () => postForm(a.upload, pngOfSize(8000), 'image/png'), 400, 'EntityTooLarge', /^Your proposed upload exceeds the maximum allowed size\. The file is larger than the policy allows/],
    ['an empty file', () => postForm(a.upload, Buffer.alloc(0), 'image/png'), 400, 'EntityTooSmall', /^Your proposed upload is smaller than the minimum allowed size\. The file is smaller than the policy allows: at least 1 bytes\.$/],
    ['no file part', async () => {
      const form = new FormData()
      for (const [k, v] of Object.entries(fields)) form.append(k, v)
      return await fetch(a.upload.url, { method: 'POST', body: form })
    }, 400, 'InvalidArgument', /^POST requires exactly one file upload per request\. The form has no file part; send every field of upload\.fields, then a part named "file"\.$/],
    ['two file parts', async () => {
      const form = uploadForm(a.upload, image, 'image/png')
      form.append('file', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'second')
      return await fetch(a.upload.url, { method: 'POST', body: form })
    }, 400, 'InvalidArgument', /^POST requires exactly one file upload per request\. The form has more than one file part/],
    ['fields missing', async () => {
      const form = new FormData()
      form.append('file', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'x')
      return await fetch(a.upload.url, { method: 'POST', body: form })
    }, 400, 'InvalidArgument', /^The upload form is not valid: the form has no "Policy" field; send every field of upload\.fields before the file\.$/],
    ['a signed policy that is not JSON', () => postForm(withFields(signed(app, fields, 'not json')), image, 'image/png'), 400, 'InvalidPolicyDocument', /^Invalid Policy: the Policy field is not a valid policy document.*: Policy is not base64 JSON$/],
    ['a signed policy without expiration', () => postForm(withFields(signed(app, fields, '{"conditions":[]}')), image, 'image/png'), 400, 'InvalidPolicyDocument', /Policy has no expiration or conditions/],
    ['a truncated multipart body', () => raw(`--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nx\r\n--${boundary}\r\nContent-Disposition: form-data; name="fi`, `multipart/form-data; boundary=${boundary}`), 400, 'MalformedPOSTRequest',
      /^The body of your POST request is not well-formed multipart\/form-data\. The body is not well-formed multipart\/form-data; send every field of upload\.fields, then the file: /],
    ['too many fields', async () => {
      const form = new FormData()
      for (let i = 0; i < 40; i++) form.append(`x-ignore-${i}`, 'x')
      return await fetch(a.upload.url, { method: 'POST', body: form })
    }, 400, 'MaxPostPreDataLengthExceeded', /^Your POST request fields preceding the upload file were too large\. The form fields/],
    ['JSON', () => raw('{}', 'application/json'), 412, 'PreconditionFailed', /^At least one of the pre-conditions you specified did not hold: Bucket POST must be of the enclosure-type multipart\/form-data\. The form must be sent as multipart\/form-data/],
    ['JSON that does not parse', () => raw('{', 'application/json'), 412, 'PreconditionFailed', /enclosure-type multipart\/form-data/],
    ['text', () => raw('hello', 'text/plain'), 412, 'PreconditionFailed', /enclosure-type multipart\/form-data/],
    ['a URL-encoded form', () => raw('key=x', 'application/x-www-form-urlencoded'), 412, 'PreconditionFailed', /enclosure-type multipart\/form-data/]
  ]
  for (const [name, send, status, code, message] of cases) {
    const res = await s3Error(await send())
    t.equal(res.status, status, `${name}: ${status}`)
    t.equal(res.code, code, `${name}: ${code}`)
    t.match(res.message, message, `${name}: ${res.message}`)
    t.match(res.type, /^application\/xml\b/, `${name}: application/xml`)
    t.ok(res.body.startsWith(`${XML_DECLARATION}<Error><Code>`), `${name}: an S3 Error document`)
    t.equal(res.requestId, res.requestIdHeader, `${name}: RequestId is the request's id`)
    t.same(files(app), [], `${name}: nothing stored`)
  }
  t.equal((await app.inject({ method: 'POST', url: `/v1/uploads/${a.uploadId}/complete` })).statusCode, 409, 'nothing uploaded for the ticket')
})

t.test('an expired form: 403 AccessDenied, "Policy expired."', async (t) => {
  const { app } = await listen(t, { UPLOAD_TTL_SECONDS: '1', UPLOAD_GRACE_SECONDS: '0' })
  const a = await ticket(app)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const res = await s3Error(await postForm(a.upload, png(), 'image/png'))
  t.equal(res.status, 403)
  t.equal(res.code, 'AccessDenied')
  t.match(res.message, /^Invalid according to Policy: Policy expired\. The upload policy has expired; ask for a new ticket: it expired at \d{4}-\d\d-\d\dT/)
  t.same(files(app), [])
})

t.test('a refusal inside the form closes the connection and counts as refused', async (t) => {
  const app = await build(t)
  const a = await ticket(app)
  const form = new Response(uploadForm(a.upload, png(), 'image/png', { acl: 'public-read' }))
  const res = await app.inject({ method: 'POST', url: '/uploads', headers: { 'content-type': form.headers.get('content-type')! }, payload: Buffer.from(await form.arrayBuffer()) })
  t.equal(res.statusCode, 403)
  t.equal(res.headers.connection, 'close')
  t.match(res.headers['content-type'], /^application\/xml\b/)
  const metrics = await app.inject({ url: '/metrics' })
  t.match(metrics.body, /outcome="refused"\} 1/)
})

t.test('5xx: 500 InternalError with a generic message, never internal detail', async (t) => {
  const { app } = await listen(t)
  const storage = app.objects as LocalStorage
  const a = await ticket(app)
  const failures: Array<[string, () => never]> = [
    ['a disk error', () => { throw Object.assign(new Error('EACCES: permission denied, open \'/var/secret/uploads/.incoming/x.part\''), { code: 'EACCES', syscall: 'open' }) }],
    ['a programming error', () => { throw new TypeError('Cannot read properties of undefined (reading \'secretAccessKey\')') }]
  ]
  for (const [name, fail] of failures) {
    storage.receive = async () => fail()
    const res = await s3Error(await postForm(a.upload, png(), 'image/png'))
    t.equal(res.status, 500, name)
    t.equal(res.code, 'InternalError', name)
    t.equal(res.message, 'We encountered an internal error. Please try again.', name)
    t.match(res.type, /^application\/xml\b/)
    t.notMatch(res.body, /secret|EACCES|TypeError|undefined/, `${name}: nothing internal`)
  }
  t.same(s3Refusal(Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' })), { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' })
})

t.test('a rate limit (429) answers 503 SlowDown, as S3 does', async (t) => {
  const answer = s3Refusal(Object.assign(new Error('rate limit exceeded, retry in 10 seconds'), { statusCode: 429 }))
  t.same(answer, { status: 503, code: 'SlowDown', message: 'Please reduce your request rate. Rate limit exceeded, retry in 10 seconds.' })
})

t.test('every other route keeps the JSON error shape', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/v1/uploads/upl_AAAAAAAAAAAAAAAAAAAAAA/complete' })
  t.equal(res.statusCode, 404)
  t.match(res.headers['content-type'], /^application\/json/)
  t.match(res.json(), { statusCode: 404, error: 'Not Found', code: 'UPLOAD_NOT_FOUND', message: /no upload/ })
  const ticketRes = await app.inject({ method: 'POST', url: '/v1/uploads', headers: AUTH, payload: { ownerId: 'u1', contentType: 'text/html' } })
  t.equal(ticketRes.statusCode, 400)
  t.match(ticketRes.json(), { code: 'CONTENT_TYPE_NOT_ALLOWED' })
})

t.test('a re-post of a still-valid form answers 201 again and replaces the staged bytes; nothing is served before completion', async (t) => {
  const { app } = await listen(t)
  const first = png(8, 8)
  const second = png(16, 16)
  const a = await ticket(app)
  const one = await postForm(a.upload, first, 'image/png')
  t.equal(one.status, 201)
  t.equal((await fetch(a.publicUrl)).status, 404, 'not served after the form POST')
  const two = await postForm(a.upload, second, 'image/png')
  t.equal(two.status, 201, 'the same form again: 201, as on S3')
  t.equal(element(await two.text(), 'PostResponse', 'ETag'), etagOf(second), 'the ETag of the second post')
  const staged = readdirSync(join(app.config.upload.dir, '.staging'))
  t.equal(staged.length, 1, 'one staged object')
  t.ok(readFileSync(join(app.config.upload.dir, '.staging', staged[0]!)).equals(second), 'the second post replaced the first')
  t.equal((await fetch(a.publicUrl)).status, 404, 'still not served before completion')
  t.same(readdirSync(join(app.config.upload.dir, 'profile')), [], 'nothing published')

  const done = await app.inject({ method: 'POST', url: `/v1/uploads/${a.uploadId}/complete` })
  t.equal(done.statusCode, 200, 'completion publishes it')
  t.equal((await fetch(a.publicUrl)).status, 200, 'served once completed')
})

t.test('a refused re-post leaves the bytes staged before it, as S3 keeps the object a refused POST would have replaced', async (t) => {
  const { app } = await listen(t)
  const first = png(8, 8)
  const a = await ticket(app)
  t.equal((await postForm(a.upload, first, 'image/png')).status, 201)
  // The same form again, refused only after its file part was read: a second file part.
  const form = uploadForm(a.upload, png(16, 16), 'image/png')
  form.append('file', new Blob([new Uint8Array(first)], { type: 'image/png' }), 'second')
  t.equal((await fetch(a.upload.url, { method: 'POST', body: form })).status, 400, 'refused')
  const staged = readdirSync(join(app.config.upload.dir, '.staging'))
  t.equal(staged.length, 1, 'the first post is still staged')
  t.ok(readFileSync(join(app.config.upload.dir, '.staging', staged[0]!)).equals(first), 'with its own bytes')
  const done = await app.inject({ method: 'POST', url: `/v1/uploads/${a.uploadId}/complete` })
  t.equal(done.statusCode, 200, 'completion publishes the first post')
  t.equal(done.json().width, 8, 'the 8 × 8 image')
})
