// What a client meets when Fastify itself refuses the request (a body no parser takes, JSON that does not parse, a
// body over the limit, a URL that does not decode, a method the path does not take): the catalogue's codes with
// messages that say what is expected, never Fastify's FST_ codes; 405 with Allow for a known path.
import { request } from 'node:http'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { AUTH, build, listen } from '../helpers/build.js'

const ID = 'upl_0000000000000000000000'
const TICKET = /expected: an object with ownerId and contentType \(and optionally contentLength\)/

t.test('bodies the ticket endpoint cannot read: what to send instead', async (t) => {
  const app = await build(t)
  const cases: Array<[string, string | undefined, string, number, string, RegExp]> = [
    ['a form', 'application/x-www-form-urlencoded', 'ownerId=u1&contentType=image%2Fpng', 415, 'UNSUPPORTED_MEDIA_TYPE', /^the body must be JSON, sent with Content-Type: application\/json: it came as application\/x-www-form-urlencoded; expected: an object with ownerId and contentType/],
    ['text', 'text/plain', '{"ownerId":"u1","contentType":"image/png"}', 415, 'UNSUPPORTED_MEDIA_TYPE', /Content-Type: application\/json: it came as text\/plain; expected/],
    ['another type', 'application/xml', '<ticket/>', 415, 'UNSUPPORTED_MEDIA_TYPE', /it came as application\/xml/],
    ['a Content-Type Fastify cannot read (FST_ERR_CTP_INVALID_MEDIA_TYPE)', '/', '{}', 415, 'UNSUPPORTED_MEDIA_TYPE', /Content-Type: application\/json/],
    ['JSON that does not parse (FST_ERR_CTP_INVALID_JSON_BODY)', 'application/json', '{"ownerId":', 400, 'BODY_INVALID', /^the body must be a JSON object, sent with Content-Type: application\/json: it is not valid JSON; expected/],
    ['prototype poisoning', 'application/json', '{"__proto__":{"x":1}}', 400, 'BODY_INVALID', /it is not valid JSON/],
    ['an empty JSON body', 'application/json', '', 400, 'BODY_INVALID', /: it is missing; expected/],
    ['a JSON array', 'application/json', '[]', 400, 'BODY_INVALID', /: it is an array; expected/],
    ['a JSON string', 'application/json', '"u1"', 400, 'BODY_INVALID', /: it is a string; expected/],
    ['JSON null', 'application/json', 'null', 400, 'BODY_INVALID', /: it is null; expected/],
    ['too large (FST_ERR_CTP_BODY_TOO_LARGE)', 'application/json', JSON.stringify({ ownerId: 'x'.repeat(70_000), contentType: 'image/png' }), 413, 'BODY_TOO_LARGE', /^the body is larger than a JSON request may be: at most 65536 bytes$/],
    ['a field wrong: still named', 'application/json', '{"ownerId":1,"contentType":"image/png"}', 400, 'VALIDATION', /^body\/ownerId must be string$/]
  ]
  for (const [name, type, payload, status, code, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/v1/uploads', headers: { ...AUTH, ...(type !== undefined ? { 'content-type': type } : {}) }, payload })
    t.equal(res.statusCode, status, `${name}: ${status}`)
    t.match(res.json(), { statusCode: status, code, message }, `${name}: ${code}`)
    t.notMatch(res.body, /FST_/, `${name}: no Fastify code`)
  }
  t.match((await app.inject({ method: 'POST', url: '/v1/uploads', headers: AUTH, payload: 'x' })).json(), { code: 'UNSUPPORTED_MEDIA_TYPE', message: TICKET }, 'the expected fields come from the route schema')
})

t.test('JSON in another charset than UTF-8 is refused, saying so; UTF-8 and US-ASCII are read', async (t) => {
  const app = await build(t)
  const body = '{"ownerId":"u1","contentType":"image/png"}'
  const utf16 = Buffer.from('\ufeff' + body, 'utf16le')
  for (const type of ['application/json; charset=utf-16', 'application/json;charset=UTF-16LE', 'application/json; charset="latin1"']) {
    const res = await app.inject({ method: 'POST', url: '/v1/uploads', headers: { ...AUTH, 'content-type': type }, payload: type.includes('16') ? utf16 : body })
    t.equal(res.statusCode, 415, type)
    t.match(res.json(), { code: 'UNSUPPORTED_MEDIA_TYPE', message: /it came as application\/json in charset [^ ]+; JSON is read in UTF-8 only: send it in UTF-8 \(charset=utf-8, or no charset\)$/ }, `${type}: what to send instead`)
  }
  for (const type of ['application/json; charset=utf-8', 'application/json; charset=UTF8', 'application/json; charset="us-ascii"', 'application/json']) {
    const res = await app.inject({ method: 'POST', url: '/v1/uploads', headers: { ...AUTH, 'content-type': type }, payload: body })
    t.equal(res.statusCode, 201, `${type}: read`)
  }
})

t.test('a Content-Length the body does not match (FST_ERR_CTP_INVALID_CONTENT_LENGTH)', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/v1/uploads', headers: { ...AUTH, 'content-type': 'application/json', 'content-length': '100' }, payload: '{}' })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { code: 'BODY_INVALID', message: /differs from its Content-Length/ })
})

t.test('endpoints without a body: none is fine whatever its type; a text body is refused', async (t) => {
  const app = await build(t)
  const complete = `/v1/uploads/${ID}/complete`
  for (const type of [undefined, 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'application/json']) {
    const res = await app.inject({ method: 'POST', url: complete, headers: type === undefined ? {} : { 'content-type': type }, payload: '' })
    t.equal(res.json().code, 'UPLOAD_NOT_FOUND', `empty body as ${type ?? 'no type'}: the route runs`)
  }
  const text = await app.inject({ method: 'POST', url: complete, headers: { 'content-type': 'text/plain' }, payload: 'hello' })
  t.equal(text.statusCode, 415)
  t.match(text.json(), { code: 'UNSUPPORTED_MEDIA_TYPE', message: /it came as text\/plain; this endpoint needs no body: send none$/ })
})

t.test('the development upload endpoint still answers S3\'s XML for a body that is not a form', async (t) => {
  const app = await build(t)
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/json']) {
    const res = await app.inject({ method: 'POST', url: '/uploads', headers: { 'content-type': type }, payload: 'a=b' })
    t.equal(res.statusCode, 412, type)
    t.match(res.body, /<Code>PreconditionFailed<\/Code>.*multipart\/form-data/s, `${type}: S3's PreconditionFailed`)
  }
})

t.test('a URL that does not decode (FST_ERR_BAD_URL), a malformed parameter', async (t) => {
  const { base } = await listen(t)
  const bad = await fetch(`${base}/v1/uploads/%zz`, { headers: AUTH })
  t.equal(bad.status, 400)
  t.same(await bad.json(), { statusCode: 400, error: 'Bad Request', code: 'BAD_URL', message: 'the URL is not valid; percent-encode it (a "%" must start an escape such as %20)' })
  const param = await fetch(`${base}/v1/uploads/not-an-id`, { headers: AUTH })
  t.equal(param.status, 400)
  t.match(await param.json(), { code: 'VALIDATION', message: /^params\/uploadId must match pattern/ })
})

t.test('development image files: range and condition refusals in the catalogue', async (t) => {
  const app = await build(t)
  await app.ready()
  const name = '3f6c0c1e9b2a4d7f8e5a6b7c8d9e0f1a.png'
  writeFileSync(join(app.config.upload.dir, 'profile', name), 'abc')
  const range = await app.inject({ url: `/uploads/profile/${name}`, headers: { range: 'bytes=100-200' } })
  t.equal(range.statusCode, 416)
  t.equal(range.json().code, 'RANGE_NOT_SATISFIABLE')
  const condition = await app.inject({ url: `/uploads/profile/${name}`, headers: { 'if-match': '"other"' } })
  t.equal(condition.statusCode, 412)
  t.equal(condition.json().code, 'PRECONDITION_FAILED')
})

/** One request over a real socket (the Allow header as a client sees it). */
async function send (base: string, method: string, path: string): Promise<{ status: number, allow?: string, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers: AUTH }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('a known path with another method: 405 with Allow', async (t) => {
  const { base } = await listen(t)
  const cases: Array<[string, string, string]> = [
    ['PUT', '/v1/uploads', 'POST'],
    ['GET', '/v1/uploads', 'POST'],
    ['POST', `/v1/uploads/${ID}`, 'GET, HEAD, DELETE'],
    ['PATCH', `/v1/uploads/${ID}/complete`, 'POST'],
    ['DELETE', '/health', 'GET, HEAD'],
    ['GET', '/uploads', 'POST'],
    ['POST', '/uploads/profile/3f6c0c1e9b2a4d7f8e5a6b7c8d9e0f1a.png', 'GET, HEAD'],
    ['GET', '/v1/webhooks/events/msg_1/redrive', 'POST']
  ]
  for (const [method, path, allow] of cases) {
    const res = await send(base, method, path)
    t.equal(res.status, 405, `${method} ${path}: 405`)
    t.equal(res.allow, allow, `${method} ${path}: Allow: ${allow}`)
    t.match(JSON.parse(res.body), { code: 'METHOD_NOT_ALLOWED', message: `use one the Allow header lists: ${path} takes ${allow}, not ${method}` })
  }
  const unknown = await send(base, 'GET', '/v2/nothing')
  t.equal(unknown.status, 404, 'an unknown path stays 404')
  t.equal(unknown.allow, undefined)
  t.match(JSON.parse(unknown.body), { code: 'NOT_FOUND' })
  const missing = await send(base, 'GET', '/uploads/profile/3f6c0c1e9b2a4d7f8e5a6b7c8d9e0f1a.png')
  t.equal(missing.status, 404, 'a missing image with the right method stays 404')
})

t.test('every documented path answers 405 with its methods for one it does not take', async (t) => {
  const doc = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as { paths: Record<string, Record<string, unknown>> }
  const app = await build(t)
  for (const [template, item] of Object.entries(doc.paths)) {
    const methods = Object.keys(item).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m)).map((m) => m.toUpperCase())
    const path = template.replace(/\{[^}]+\}/g, (p) => (p === '{filename}' ? '3f6c0c1e9b2a4d7f8e5a6b7c8d9e0f1a.png' : p === '{eventId}' ? 'msg_1' : ID))
    const other = ['PATCH', 'PUT', 'DELETE', 'POST'].find((m) => !methods.includes(m)) as string
    const res = await app.inject({ method: other as 'PATCH', url: path, headers: AUTH })
    t.equal(res.statusCode, 405, `${other} ${path}`)
    const allowed = String(res.headers.allow).split(', ')
    t.ok(methods.every((m) => allowed.includes(m)), `${path}: Allow (${res.headers.allow}) lists ${methods.join(', ')}`)
    t.equal(res.json().code, 'METHOD_NOT_ALLOWED')
  }
})
