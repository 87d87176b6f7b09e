// The rate limits over real sockets: TICKET_RATE_LIMIT per owner on POST /v1/uploads, BROWSER_RATE_LIMIT per
// client address on the browser endpoints (one bucket for completion and the development upload), counted per
// process here (test/limits/redis.test.ts: shared through Redis). Whose address counts: the socket's, unless
// TRUST_PROXY names the proxy; IPv6 by /64.
import { Writable } from 'node:stream'
import t from 'tap'
import { AUTH, listen } from '../helpers/build.js'
import { postForm } from '../helpers/form.js'
import { png } from '../helpers/images.js'
import { createTicket } from '../helpers/upload-flow.js'

const json = { ...AUTH, 'content-type': 'application/json' }
const ticketFor = async (base: string, ownerId: string, headers: Record<string, string> = json) =>
  await fetch(`${base}/v1/uploads`, { method: 'POST', headers, body: JSON.stringify({ ownerId, contentType: 'image/png' }) })
/** Completion of an upload that does not exist: 404, but counted like any browser request. */
const UNKNOWN = 'upl_AAAAAAAAAAAAAAAAAAAAAAAA'
const completeFrom = async (base: string, headers: Record<string, string> = {}) =>
  await fetch(`${base}/v1/uploads/${UNKNOWN}/complete`, { method: 'POST', headers })
const limitHeaders = (res: Response) => ({
  limit: res.headers.get('ratelimit-limit'),
  remaining: res.headers.get('ratelimit-remaining'),
  reset: res.headers.get('ratelimit-reset'),
  retryAfter: res.headers.get('retry-after')
})
// Windows are aligned to the clock: a day-long one is not crossed while a test runs.
const DAY = 86_400
const seconds = (value: string | null, max: number) => value !== null && /^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= max

async function metric (base: string, line: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text()
  const found = text.split('\n').find((l) => line.test(l))
  return found === undefined ? undefined : Number(found.split(' ').pop())
}

t.test('the N+1st ticket of one owner is 429 with Retry-After and RateLimit-*, while another owner still gets 201', async (t) => {
  const { base } = await listen(t, { TICKET_RATE_LIMIT: '3/1d' })
  for (let i = 1; i <= 3; i++) {
    const res = await ticketFor(base, 'owner-a')
    t.equal(res.status, 201, `ticket ${i}`)
    t.match(limitHeaders(res), { limit: '3', remaining: String(3 - i), retryAfter: null }, `ticket ${i}: what is left`)
    t.ok(seconds(res.headers.get('ratelimit-reset'), DAY), 'RateLimit-Reset: seconds until the window ends')
  }
  const refused = await ticketFor(base, 'owner-a')
  t.equal(refused.status, 429)
  const h = limitHeaders(refused)
  t.match(h, { limit: '3', remaining: '0' })
  t.ok(seconds(h.retryAfter, DAY) && seconds(h.reset, DAY), `Retry-After ${String(h.retryAfter)} and RateLimit-Reset ${String(h.reset)}: within the window`)
  const body = await refused.json() as { statusCode: number, code: string, message: string }
  t.match(body, { statusCode: 429, error: 'Too Many Requests', code: 'RATE_LIMITED' })
  t.match(body.message, /at most 3 upload tickets per day per owner \(TICKET_RATE_LIMIT\)/, 'the message names the limit')
  t.match(body.message, /Retry-After/, 'and says when to retry')

  const other = await ticketFor(base, 'owner-b')
  t.equal(other.status, 201, 'another owner is not affected')
  t.equal(other.headers.get('ratelimit-remaining'), '2')
  t.equal(await metric(base, /^rate_limited_total\{limit="tickets"\}/), 1, '/metrics counts the refusal')
})

t.test('refused requests do not count: a bad token (401) or a bad body (400) spends nothing', async (t) => {
  const { base } = await listen(t, { TICKET_RATE_LIMIT: '2/1d' })
  for (let i = 0; i < 3; i++) {
    t.equal((await ticketFor(base, 'owner-c', { authorization: 'Bearer wrong-token-0123456789', 'content-type': 'application/json' })).status, 401)
    t.equal((await fetch(`${base}/v1/uploads`, { method: 'POST', headers: json, body: JSON.stringify({ ownerId: 'owner-c' }) })).status, 400)
  }
  const res = await ticketFor(base, 'owner-c')
  t.equal(res.status, 201)
  t.equal(res.headers.get('ratelimit-remaining'), '1', 'the first counted request')
})

t.test('0 turns a limit off: no refusals and no RateLimit headers', async (t) => {
  const { base } = await listen(t, { TICKET_RATE_LIMIT: '0', BROWSER_RATE_LIMIT: '0' })
  for (let i = 0; i < 5; i++) {
    const res = await ticketFor(base, 'owner-d')
    t.equal(res.status, 201)
    t.equal(res.headers.get('ratelimit-limit'), null)
    t.equal((await completeFrom(base)).status, 404)
  }
})

t.test('browser endpoints: one bucket per client address for completion and the development upload', async (t) => {
  const { base } = await listen(t, { BROWSER_RATE_LIMIT: '3/1d' })
  const ticket = await createTicket(base, 'owner-e')
  t.equal((await postForm(ticket.upload, png(), 'image/png')).status, 201, '1: the form')
  const done = await fetch(`${base}/v1/uploads/${ticket.uploadId}/complete`, { method: 'POST' })
  t.equal(done.status, 200, '2: completion')
  t.equal(done.headers.get('ratelimit-remaining'), '1')
  t.equal((await completeFrom(base)).status, 404, '3: an unknown upload counts too')

  const refused = await fetch(`${base}/v1/uploads/${ticket.uploadId}/complete`, { method: 'POST' })
  t.equal(refused.status, 429, 'completion: 429')
  t.match(limitHeaders(refused), { limit: '3', remaining: '0' })
  t.ok(seconds(refused.headers.get('retry-after'), DAY), 'with Retry-After')
  const body = await refused.json() as { code: string, message: string }
  t.equal(body.code, 'RATE_LIMITED')
  t.match(body.message, /at most 3 requests per day per client address on the browser endpoints \(BROWSER_RATE_LIMIT\)/)

  const form = await postForm(ticket.upload, png(), 'image/png')
  t.equal(form.status, 503, 'the development upload answers as S3 does: 503 SlowDown')
  t.equal(form.headers.get('content-type'), 'application/xml')
  t.ok(seconds(form.headers.get('retry-after'), DAY), 'with Retry-After')
  t.match(limitHeaders(form), { limit: '3', remaining: '0' })
  const xml = await form.text()
  t.match(xml, /<Code>SlowDown<\/Code>/)
  t.match(xml, /<Message>Please reduce your request rate\. [^<]*BROWSER_RATE_LIMIT/, 'S3\'s message, then the limit')

  const backend = await fetch(`${base}/v1/uploads/${ticket.uploadId}/complete`, { method: 'POST', headers: AUTH })
  t.equal(backend.status, 200, 'the main backend (service token) is not limited per address')
  t.equal(backend.headers.get('ratelimit-limit'), null)
  t.equal(await metric(base, /^rate_limited_total\{limit="browser"\}/), 2)
})

t.test('without TRUST_PROXY a spoofed X-Forwarded-For does not change the bucket', async (t) => {
  const { base } = await listen(t, { BROWSER_RATE_LIMIT: '2/1d' })
  t.equal((await completeFrom(base, { 'x-forwarded-for': '198.51.100.1' })).status, 404)
  t.equal((await completeFrom(base, { 'x-forwarded-for': '198.51.100.2' })).status, 404)
  t.equal((await completeFrom(base, { 'x-forwarded-for': '198.51.100.3' })).status, 429, 'the socket address counted all three')
  t.equal((await completeFrom(base, { 'x-forwarded-for': '198.51.100.3', forwarded: 'for=198.51.100.4' })).status, 429)
})

t.test('X-Forwarded-For without TRUST_PROXY: a warning, once, that clients behind a proxy would share a bucket', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done() } })
  const { base } = await listen(t, { BROWSER_RATE_LIMIT: '10/1d' }, { logger: { level: 'warn', stream } })
  const warnings = () => lines.filter((l) => l.includes('TRUST_PROXY is unset'))
  await completeFrom(base)
  t.same(warnings(), [], 'nothing without the header')
  for (let i = 0; i < 3; i++) await completeFrom(base, { 'x-forwarded-for': '198.51.100.1' })
  t.equal(warnings().length, 1, 'one warning')
  t.match(warnings()[0], /set TRUST_PROXY/)
})

t.test('TRUST_PROXY naming another proxy: the header is still ignored', async (t) => {
  const { base } = await listen(t, { BROWSER_RATE_LIMIT: '2/1d', TRUST_PROXY: '10.0.0.0/8' })
  t.equal((await completeFrom(base, { 'x-forwarded-for': '198.51.100.1' })).status, 404)
  t.equal((await completeFrom(base, { 'x-forwarded-for': '198.51.100.2' })).status, 404)
  t.equal((await completeFrom(base, { 'x-forwarded-for': '198.51.100.3' })).status, 429, '127.0.0.1 is not a trusted proxy')
})

t.test('with TRUST_PROXY the forwarded address is the bucket; IPv6 clients of one /64 share one', async (t) => {
  const { base } = await listen(t, { BROWSER_RATE_LIMIT: '2/1d', TRUST_PROXY: 'loopback' })
  const from = async (address: string) => (await completeFrom(base, { 'x-forwarded-for': address })).status
  t.equal(await from('198.51.100.1'), 404)
  t.equal(await from('198.51.100.1'), 404)
  t.equal(await from('198.51.100.1'), 429, 'one client over the limit')
  t.equal(await from('198.51.100.2'), 404, 'another client has its own bucket')
  t.equal(await from('::ffff:198.51.100.2'), 404, 'its IPv4-mapped IPv6 form is the same client')
  t.equal(await from('198.51.100.2'), 429)

  t.equal(await from('2001:db8:1:2::a'), 404)
  t.equal(await from('2001:db8:1:2:ffff:ffff:ffff:b'), 404, 'another address of the same /64…')
  t.equal(await from('2001:db8:1:2::c'), 429, '…counts in the same bucket')
  t.equal(await from('2001:db8:1:3::a'), 404, 'the next /64 has its own')
})
