// Request durations are counted per method, route pattern and status, unmatched requests included, in the buckets
// of REQUEST_BUCKETS (prom-client's Histogram).
import t from 'tap'
import { REQUEST_BUCKETS } from '../src/metrics.js'
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
  for (const le of [...REQUEST_BUCKETS.map(String), '+Inf']) {
    t.match(text, `http_request_duration_seconds_bucket{le="${le}",method="POST",route="/v1/uploads",status="201"} `, `bucket ${le}`)
  }
  t.match(text, 'http_request_duration_seconds_sum{method="POST",route="/v1/uploads",status="201"} ')
})
