// Rate limits shared through Redis (REDIS_URL): replicas count together, and a Redis that goes away costs nothing
// but the counting (fail open): requests still answer, one warning per outage, /metrics counts what went
// uncounted, /ready stays ready, and counting resumes when Redis is back. The shared Redis (127.0.0.1:6379) is only
// read and written under a key prefix of the test's own; the one that is killed is the test's own redis-server.
import { Writable } from 'node:stream'
import t from 'tap'
import { AUTH, listen } from '../helpers/build.js'
import { keyPrefix, ownRedis, redisServerMissing, SHARED_REDIS_URL, sharedRedisMissing } from '../helpers/redis.js'
import { eventually } from '../helpers/wait.js'

const json = { ...AUTH, 'content-type': 'application/json' }
const ticketFor = async (base: string, ownerId: string) =>
  await fetch(`${base}/v1/uploads`, { method: 'POST', headers: json, body: JSON.stringify({ ownerId, contentType: 'image/png' }) })

async function metric (base: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text()
  const found = text.split('\n').find((l) => l.startsWith(`${name} `))
  return found === undefined ? undefined : Number(found.split(' ').pop())
}

/** A logger stream that keeps the entries (pino's JSON lines). */
function logLines (): { stream: Writable, entries: Array<{ level: number, msg: string }> } {
  const entries: Array<{ level: number, msg: string }> = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') entries.push(JSON.parse(line) as { level: number, msg: string })
      done()
    }
  })
  return { stream, entries }
}

t.test('two replicas on one Redis count together: 3 + 3 with a limit of 5, the sixth is 429', { skip: await sharedRedisMissing() }, async (t) => {
  const env = { TICKET_RATE_LIMIT: '5/1d', REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: keyPrefix() }
  const [a, b] = await Promise.all([listen(t, env), listen(t, env)])
  const answers: Array<{ via: string, status: number, remaining: string | null }> = []
  for (let i = 0; i < 3; i++) {
    for (const [via, replica] of [['a', a], ['b', b]] as const) {
      const res = await ticketFor(replica.base, 'owner-shared')
      answers.push({ via, status: res.status, remaining: res.headers.get('ratelimit-remaining') })
    }
  }
  t.same(answers.map((x) => x.status), [201, 201, 201, 201, 201, 429], 'the sixth ticket, whichever replica it reaches, is refused')
  t.same(answers.map((x) => x.remaining), ['4', '3', '2', '1', '0', '0'], 'one count across both replicas')
  t.equal((await ticketFor(a.base, 'owner-other')).status, 201, 'another owner is not affected')

  // Without Redis each replica would count alone: 3 each, all accepted.
  const alone = { TICKET_RATE_LIMIT: '5/1d' }
  const [c, d] = await Promise.all([listen(t, alone), listen(t, alone)])
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) for (const replica of [c, d]) statuses.push((await ticketFor(replica.base, 'owner-shared')).status)
  t.same(statuses, [201, 201, 201, 201, 201, 201], 'without REDIS_URL: counted per process')
})

t.test('Redis killed mid-test: requests still answer, one warning, /metrics counts it, /ready stays 200; counting resumes when it is back', { skip: redisServerMissing() }, async (t) => {
  const redis = await ownRedis(t)
  const log = logLines()
  const { base } = await listen(t, { TICKET_RATE_LIMIT: '3/1d', REDIS_URL: redis.url, REDIS_KEY_PREFIX: keyPrefix() }, { logger: { level: 'info', stream: log.stream } })
  const warnings = () => log.entries.filter((e) => e.level === 40 && /Redis \(REDIS_URL\) is unreachable/.test(e.msg)).length

  t.equal((await ticketFor(base, 'owner-r')).headers.get('ratelimit-remaining'), '2', 'counted in Redis')
  t.equal((await ticketFor(base, 'owner-r')).headers.get('ratelimit-remaining'), '1')
  t.equal(await metric(base, 'rate_limit_redis_up'), 1)

  await redis.kill()
  const during: number[] = []
  for (let i = 0; i < 5; i++) during.push((await ticketFor(base, 'owner-r')).status)
  t.same(during, [201, 201, 201, 201, 201], 'every request answers (5 > the 1 left: uncounted)')
  t.equal(warnings(), 1, 'one warning for the outage, not one per request')
  t.equal(await metric(base, 'rate_limit_redis_failures_total'), 5, '/metrics counts each request let through uncounted')
  t.equal(await metric(base, 'rate_limit_redis_up'), 0)
  const ready = await fetch(`${base}/ready`)
  t.equal(ready.status, 200, '/ready stays ready')

  await redis.start()
  // Counting resumes once the client has reconnected (the restarted Redis is empty: a fresh window).
  const first = await eventually(async () => {
    const res = await ticketFor(base, 'owner-r')
    return res.headers.get('ratelimit-remaining') === '2' ? res : undefined
  }, { timeoutMs: 15_000, intervalMs: 100, what: 'counting to resume' })
  t.equal(first.status, 201)
  t.equal((await ticketFor(base, 'owner-r')).headers.get('ratelimit-remaining'), '1')
  t.equal((await ticketFor(base, 'owner-r')).headers.get('ratelimit-remaining'), '0')
  t.equal((await ticketFor(base, 'owner-r')).status, 429, 'and limiting with it')
  t.ok(log.entries.some((e) => e.level === 30 && /Redis \(REDIS_URL\) is reachable again/.test(e.msg)), 'the recovery is logged')
  t.equal(await metric(base, 'rate_limit_redis_up'), 1)

  await redis.kill()
  for (let i = 0; i < 3; i++) t.equal((await ticketFor(base, 'owner-r')).status, 201)
  t.equal(warnings(), 2, 'a second outage: a second warning')
})

t.test('Redis unreachable at start: the service starts, warns, and counts once Redis appears', { skip: redisServerMissing() }, async (t) => {
  const redis = await ownRedis(t)
  await redis.kill()
  const log = logLines()
  const { base } = await listen(t, { TICKET_RATE_LIMIT: '2/1d', REDIS_URL: redis.url, REDIS_KEY_PREFIX: keyPrefix() }, { logger: { level: 'info', stream: log.stream } })
  t.equal((await fetch(`${base}/ready`)).status, 200)
  for (let i = 0; i < 3; i++) t.equal((await ticketFor(base, 'owner-s')).status, 201)
  t.equal(log.entries.filter((e) => e.level === 40 && /unreachable/.test(e.msg)).length, 1)
  await redis.start()
  await eventually(async () => (await ticketFor(base, 'owner-s')).headers.get('ratelimit-remaining') === '1' || undefined,
    { timeoutMs: 15_000, intervalMs: 100, what: 'counting to start' })
  t.equal((await ticketFor(base, 'owner-s')).status, 201)
  t.equal((await ticketFor(base, 'owner-s')).status, 429)
})
