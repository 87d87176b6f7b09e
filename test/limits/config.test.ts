// The abuse limits' configuration: defaults on in every mode, the rate syntax, TRUST_PROXY, and bad values named
// with what they expect.
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'
import { parseRate } from '../../src/limits/rate.js'
import { parseTrustProxy } from '../../src/limits/trust-proxy.js'

const production = { ENVIRONMENT: 'production', AWS_S3_BUCKET: 'my-bucket', SERVICE_TOKENS: 'token-0123456789abcdef' }
const problem = (env: Record<string, string>) => {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.message
    throw err
  }
  return ''
}

t.test('defaults: 30 tickets per 30 minutes per owner, 120 browser requests per minute per address, in both modes', async (t) => {
  for (const env of [{}, production]) {
    const c = loadConfig(env)
    t.same(c.rateLimits.tickets, { max: 30, windowMs: 30 * 60_000, window: '30 minutes' })
    t.same(c.rateLimits.browser, { max: 120, windowMs: 60_000, window: 'minute' })
    t.equal(c.rateLimits.redisUrl, undefined, 'counted per process')
    t.equal(c.rateLimits.redisKeyPrefix, 'image-service:')
    t.equal(c.server.trustProxy, false, 'the socket address counts')
    t.equal(c.server.maxConnections, undefined, 'from the open-file limit')
    t.equal(c.server.keepAliveTimeoutMs, 72_000)
  }
})

t.test('the variables', async (t) => {
  const c = loadConfig({
    TICKET_RATE_LIMIT: '6/1h',
    BROWSER_RATE_LIMIT: '0',
    REDIS_URL: 'redis://cache.internal:6379/2',
    REDIS_KEY_PREFIX: 'images:prod:',
    TRUST_PROXY: '10.0.0.0/8, 192.168.1.1',
    MAX_CONNECTIONS: '2000',
    KEEP_ALIVE_TIMEOUT_SECONDS: '650'
  })
  t.same(c.rateLimits, { tickets: { max: 6, windowMs: 3_600_000, window: 'hour' }, browser: null, redisUrl: 'redis://cache.internal:6379/2', redisKeyPrefix: 'images:prod:' })
  t.same(c.server, { trustProxy: ['10.0.0.0/8', '192.168.1.1'], maxConnections: 2000, keepAliveTimeoutMs: 650_000 })
})

t.test('rates: N/30s, N/10m, N/1h, N/1d, the count before the unit optional; 0 is off', async (t) => {
  t.same(parseRate('30/30s'), { max: 30, windowMs: 30_000, window: '30 seconds' })
  t.same(parseRate('5/10m'), { max: 5, windowMs: 600_000, window: '10 minutes' })
  t.same(parseRate('100/1d'), { max: 100, windowMs: 86_400_000, window: 'day' })
  t.same(parseRate(' 120 / m '), { max: 120, windowMs: 60_000, window: 'minute' })
  t.same(parseRate('1/7d'), { max: 1, windowMs: 7 * 86_400_000, window: '7 days' })
  t.equal(parseRate('0'), null)
  for (const bad of ['30', '30/', '/1m', '0/1m', '30/0m', '30/8d', '1000001/1m', '30/1w', '30 per minute', '-1/1m', '1.5/1m']) {
    t.equal(parseRate(bad), undefined, `"${bad}" is not a rate`)
  }
})

t.test('a bad rate names the variable and says what it expects, with the ranges', async (t) => {
  const message = problem({ TICKET_RATE_LIMIT: '30 per hour', BROWSER_RATE_LIMIT: '120/1w' })
  t.match(message, /TICKET_RATE_LIMIT: "30 per hour" is not a rate like 30\/30m: requests \(1 to 1000000\) per window of seconds, minutes, hours or days \(N\/30s, N\/10m, N\/1h, N\/1d; from 1 second to 7 days\), or 0 for no limit/)
  t.match(message, /BROWSER_RATE_LIMIT: "120\/1w" is not a rate/)
})

t.test('TRUST_PROXY: true, a hop count, or addresses and CIDRs', async (t) => {
  t.equal(parseTrustProxy(undefined), false)
  t.equal(parseTrustProxy('false'), false)
  t.equal(parseTrustProxy('0'), false)
  t.equal(parseTrustProxy('true'), true)
  t.equal(parseTrustProxy('2'), 2)
  t.same(parseTrustProxy('loopback, 10.0.0.0/8,2001:db8::/32,172.16.0.0/255.240.0.0,::1'), ['loopback', '10.0.0.0/8', '2001:db8::/32', '172.16.0.0/255.240.0.0', '::1'])
  for (const bad of ['101', 'proxy.internal', '10.0.0.0/33', '2001:db8::/129', '10.0.0.0/8/1', 'yes please', '300.1.1.1']) {
    t.equal(parseTrustProxy(bad), undefined, `"${bad}" is refused`)
  }
  t.match(problem({ TRUST_PROXY: 'proxy.internal' }), /TRUST_PROXY: "proxy.internal" is not true \(every proxy\), a hop count \(1 to 100\), or comma-separated proxy addresses or CIDRs/)
})

t.test('numbers have ranges, and the message gives them', async (t) => {
  t.match(problem({ MAX_CONNECTIONS: '0' }), /MAX_CONNECTIONS: .*1 to 1000000/)
  t.match(problem({ MAX_CONNECTIONS: '2000000' }), /MAX_CONNECTIONS: .*1 to 1000000/)
  t.match(problem({ KEEP_ALIVE_TIMEOUT_SECONDS: '0' }), /KEEP_ALIVE_TIMEOUT_SECONDS: .*1 to 3600/)
  t.match(problem({ KEEP_ALIVE_TIMEOUT_SECONDS: 'soon' }), /KEEP_ALIVE_TIMEOUT_SECONDS: .*1 to 3600/)
})

t.test('REDIS_URL and REDIS_KEY_PREFIX are checked', async (t) => {
  t.match(problem({ REDIS_URL: 'http://cache:6379' }), /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/)
  t.equal(loadConfig({ REDIS_URL: 'rediss://user:secret@cache.internal:6380/0' }).rateLimits.redisUrl, 'rediss://user:secret@cache.internal:6380/0')
  t.match(problem({ REDIS_KEY_PREFIX: 'has space' }), /REDIS_KEY_PREFIX: must be 1 to 64 letters, digits and : _ \. -/)
})
