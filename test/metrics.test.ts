// Request durations are counted per method, route pattern and status, unmatched requests included.
import { Histogram, Registry } from 'prom-client'
import t from 'tap'
import { REQUEST_BUCKETS } from '../src/metrics.js'
import { requestDurations } from '../src/fast/request-durations.js'
import { AUTH, build } from './helpers/build.js'

t.test('http_request_duration_seconds labels', async (t) => {
  const app = await build(t)
  t.equal((await app.inject({ method: 'POST', url: '/v1/uploads', headers: AUTH, payload: { ownerId: 'u1', contentType: 'image/png' } })).statusCode, 201)
  t.equal((await app.inject({ method: 'POST', url: '/v1/uploads', headers: AUTH, payload: { ownerId: 'u1', contentType: 'image/png' } })).statusCode, 201)
  t.equal((await app.inject({ method: 'GET', url: '/v1/uploads/upl_19ac9d2e4b09Jx2vQm8Rk3LpT5wYz1AbC', headers: AUTH })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: '/no/such/path' })).statusCode, 404)
  t.equal((await app.inject({ method: 'POST', url: '/v1/uploads', payload: {} })).statusCode, 401)
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(text, 'http_request_duration_seconds_count{method="POST",route="/v1/uploads",status="201"} 2', 'by route pattern and status')
  t.match(text, 'http_request_duration_seconds_count{method="POST",route="/v1/uploads",status="401"} 1')
  t.match(text, 'http_request_duration_seconds_count{method="GET",route="/v1/uploads/:uploadId",status="404"} 1', 'the pattern, not the path')
  t.match(text, 'http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1', 'no route')
  t.notMatch(text, 'route="/no/such/path"')
})

t.test('fast/request-durations.ts exposes what prom-client\'s Histogram exposes for the same observations', async (t) => {
  const ours = new Registry()
  const theirs = new Registry()
  const name = 'http_request_duration_seconds'
  const help = 'HTTP request latency by route and status'
  const durations = requestDurations(ours, name, help, REQUEST_BUCKETS)
  const histogram = new Histogram({ name, help, labelNames: ['method', 'route', 'status'], buckets: REQUEST_BUCKETS, registers: [theirs] })
  const samples: Array<[string, string, number, number]> = [
    ['GET', '/a', 200, 0.0004], ['POST', '/b', 201, 0.3], ['GET', '/a', 200, 0.001], ['GET', '/a', 500, 0.0123],
    ['GET', 'unmatched', 404, 12.5], ['POST', '/b', 201, 10], ['GET', '/a', 200, 2.5000001], ['GET', '/a/"q"\\', 200, 0]
  ]
  for (const [method, route, status, seconds] of samples) {
    durations.observe(method, route, status, seconds)
    histogram.observe({ method, route, status }, seconds)
  }
  t.equal(await ours.metrics(), await theirs.metrics(), 'byte for byte: buckets (edges included), +Inf, sum, count, order, escaping')
  ours.resetMetrics()
  theirs.resetMetrics()
  t.equal(await ours.metrics(), await theirs.metrics(), 'after a reset')
  t.throws(() => durations.observe('GET', '/a', 200, NaN), TypeError, 'a value that is not a number is refused, as prom-client refuses it')
  t.throws(() => histogram.observe({ method: 'GET', route: '/a', status: 200 }, NaN), TypeError)
})
