// Logs are JSON with request ids, and credentials never reach them.
import { spawn } from 'node:child_process'
import { Writable } from 'node:stream'
import t from 'tap'
import { batchedStdout, loggerOptions } from '../src/logger.js'
import { AUTH, build, TOKEN } from './helpers/build.js'

const ROOT = new URL('../', import.meta.url).pathname

t.test('request logs carry ids and redact tokens and upload ids', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } })
  const app = await build(t, {}, { logger: { ...(loggerOptions('info') as object), stream } as never })
  const created = await app.inject({ method: 'POST', url: '/v1/uploads', headers: { ...AUTH, 'x-request-id': 'req-abc-123' }, payload: { ownerId: 'u1', contentType: 'image/png' } })
  t.equal(created.headers['x-request-id'], 'req-abc-123')
  const { uploadId, upload } = created.json()
  await app.inject({ method: 'POST', url: `/v1/uploads/${uploadId}/complete`, headers: { authorization: `Bearer ${TOKEN}` } })
  const text = lines.join('')
  for (const line of lines) t.doesNotThrow(() => JSON.parse(line), 'JSON lines')
  t.match(text, /"reqId":"req-abc-123"/)
  t.notMatch(text, TOKEN, 'no token')
  t.notMatch(text, uploadId, 'no full upload id')
  t.notMatch(text, upload.fields['X-Amz-Signature'], 'no policy signature')
  t.notMatch(text, app.config.upload.signingSecret, 'no signing secret')
  t.match(text, /upl_.{4}…/, 'upload ids are masked')
})

t.test('lines written through a request\'s own logger carry its id, redaction and route level', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } })
  const app = await build(t, {}, { logger: { ...(loggerOptions('info') as object), stream } as never })
  // The request logger is made on first use (fast/lazy-request-logger.ts): what it writes must be what pino's child wrote.
  const enabled = (log: unknown, level: string) => (log as { isLevelEnabled: (l: string) => boolean }).isLevelEnabled(level)
  app.get('/test/log', async (req) => {
    req.log.info({ headers: { authorization: `Bearer ${TOKEN}` } }, 'from the route')
    return { debug: enabled(req.log, 'debug'), level: req.log.level }
  })
  app.get('/test/quiet', { logLevel: 'warn' }, async (req) => {
    req.log.info('not written at warn')
    return { info: enabled(req.log, 'info'), level: req.log.level }
  })
  const res = await app.inject({ method: 'GET', url: '/test/log', headers: { 'x-request-id': 'req-lazy-1' } })
  t.same(res.json(), { debug: false, level: 'info' })
  const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'from the route')
  t.equal(line?.reqId, 'req-lazy-1', 'the binding is there')
  t.same((line?.headers as Record<string, string>).authorization, '[redacted]', 'the parent\'s redaction applies')
  const quiet = await app.inject({ method: 'GET', url: '/test/quiet' })
  t.same(quiet.json(), { info: false, level: 'warn' }, 'a route level is honoured')
  t.notMatch(lines.join(''), 'not written at warn')
})

t.test('the access line the service writes itself is the line pino writes', async (t) => {
  const lineOf = async (direct: boolean, headers: Record<string, string>, url: string) => {
    // Two collectors: pino's and the direct one, so the test knows which wrote the line.
    const viaPino: string[] = []
    const viaAccessLine: string[] = []
    const app = await build(t, {}, { logger: loggerOptions('info', { write (line: string) { viaPino.push(line) } }), ...(direct ? { accessLog: { write (line: string) { viaAccessLine.push(line) } } } : {}) })
    await app.inject({ method: 'POST', url, headers: { ...AUTH, ...headers }, payload: { ownerId: 'u1', contentType: 'image/png' }, remoteAddress: '10.1.2.3' })
    const completed = (lines: string[]) => lines.filter((l) => l.includes('"msg":"request completed"'))
    const access = completed(direct ? viaAccessLine : viaPino)
    t.equal(access.length, 1, 'one access line')
    t.equal(completed(viaPino).length, direct ? 0 : 1, direct ? 'written by fast/access-line.ts, not pino' : 'written by pino')
    // Time and duration differ from run to run; everything else, key order included, must not.
    return (access[0] ?? '').replace(/"time":\d+,/, '"time":T,').replace(/"responseTime":[\d.e-]+,/, '"responseTime":R,')
  }
  for (const [headers, url] of [[{ 'x-request-id': 'req-same-1' }, '/v1/uploads'], [{ 'x-request-id': 'req.odd_2' }, '/v1/uploads?x="é"\\upl_abcdefghijklmnop']] as const) {
    const direct = await lineOf(true, headers, url)
    t.equal(direct, await lineOf(false, headers, url), `byte for byte: ${url.length} character URL`)
    t.match(direct, /^\{"level":30,"time":T,"pid":\d+,"hostname":"[^"]+","reqId":"req[.-]/)
  }
})

t.test('consecutive access lines each carry their own method, URL and address', async (t) => {
  const lines: string[] = []
  const app = await build(t, {}, { logger: loggerOptions('info', { write () {} }), accessLog: { write (line: string) { lines.push(line) } } })
  const requests = [
    { method: 'POST', url: '/v1/uploads', remoteAddress: '10.1.2.3' },
    { method: 'POST', url: '/v1/uploads?a=1', remoteAddress: '10.1.2.3' },
    { method: 'GET', url: '/v1/uploads?a=1', remoteAddress: '10.9.9.9' },
    { method: 'POST', url: '/v1/uploads', remoteAddress: '10.1.2.3' }
  ] as const
  for (const r of requests) await app.inject({ ...r, headers: AUTH, ...(r.method === 'POST' ? { payload: { ownerId: 'u1', contentType: 'image/png' } } : {}) })
  const req = lines.map((l) => (JSON.parse(l) as { req: { method: string, url: string, ip: string } }).req).map(({ method, url, ip }) => ({ method, url, ip }))
  t.strictSame(req, requests.map((r) => ({ method: r.method, url: r.url, ip: r.remoteAddress })), 'nothing carried over from the line before')
})

t.test('log lines reach stdout in blocks: at the size limit at once, otherwise within the time limit, in order', async (t) => {
  const writes: string[] = []
  const stream = batchedStdout((text) => { writes.push(String(text)); return undefined }, { bytes: 100, ms: 30 })
  stream.write('one\n')
  stream.write('two\n')
  t.same(writes, [], 'held while the block is small')
  await new Promise((resolve) => setTimeout(resolve, 60))
  t.same(writes, ['one\ntwo\n'], 'written together once the time limit passed')
  const long = `${'x'.repeat(60)}\n`
  stream.write(long)
  stream.write(long)
  t.same(writes, ['one\ntwo\n', long + long], 'a block that reaches the size limit is written at once')
  stream.write('three\n')
  await new Promise((resolve) => setTimeout(resolve, 60))
  t.same(writes.at(-1), 'three\n', 'and the timer starts again for the next block')
})

t.test('an exception that ends the process loses no log line', async (t) => {
  const script = 'import { batchedStdout } from "./src/logger.ts"; const s = batchedStdout(); s.write("before the crash\\n"); throw new Error("boom")'
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT })
  let stdout = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  const code = await new Promise((resolve) => child.on('close', resolve))
  t.not(code, 0)
  t.equal(stdout, 'before the crash\n')
})
