// Production configuration errors stop the start with a message naming each variable to fix.
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { AUTH, build, TOKEN } from './helpers/build.js'
import { runServer } from './helpers/server-process.js'

t.test('loadConfig names every missing production variable at once', async (t) => {
  const err = t.throws(() => loadConfig({ ENVIRONMENT: 'production' })) as Error
  t.type(err, ConfigError)
  t.match(err.message, /AWS_S3_BUCKET: is required when ENVIRONMENT=production/)
  t.match(err.message, /SERVICE_TOKENS: is required when ENVIRONMENT=production/)
  t.throws(() => loadConfig({ DEBUG: 'false', SERVICE_TOKENS: 'token-0123456789abcdef' }), /AWS_S3_BUCKET: is required/, 'DEBUG=false is production too')
})

t.test('the server refuses to start in production without a bucket or service tokens', async (t) => {
  const run = await runServer(t, { ENVIRONMENT: 'production', AWS_REGION: 'ap-southeast-1' })
  t.equal(run.code, 78, 'exit code EX_CONFIG')
  t.match(run.stderr, /AWS_S3_BUCKET: is required when ENVIRONMENT=production/)
  t.match(run.stderr, /SERVICE_TOKENS: is required when ENVIRONMENT=production/)
  t.notMatch(run.stderr, /\n\s+at /, 'a message, not a stack trace')
})

t.test('ENVIRONMENT=prod (a typo of production) stops the start naming the variable, instead of running development mode', async (t) => {
  const run = await runServer(t, { ENVIRONMENT: 'prod' })
  t.equal(run.code, 78, 'exit code EX_CONFIG')
  t.match(run.stderr, /ENVIRONMENT: "prod" is neither production nor development/)
  t.notMatch(run.stderr, /\n\s+at /, 'a message, not a stack trace')
  t.equal(run.stdout, '', 'nothing started')
})

t.test('DEBUG=maybe with ENVIRONMENT unset stops the start too', async (t) => {
  const run = await runServer(t, { DEBUG: 'maybe' })
  t.equal(run.code, 78)
  t.match(run.stderr, /DEBUG: "maybe" is not a boolean/)
  t.notMatch(run.stderr, /\n\s+at /)
})

// An S3-compatible server on this machine (MinIO, Ceph) at an IP address: `bucket.127.0.0.1` is no host name, so
// only path style reaches the bucket. Unset, AWS_S3_FORCE_PATH_STYLE follows; a start used to stop at "Invalid URL".
const LOCAL_S3 = { ENVIRONMENT: 'production', SERVICE_TOKENS: TOKEN, AWS_S3_BUCKET: 'images', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'key', AWS_SECRET_ACCESS_KEY: 'secret', S3_SELF_CHECK: 'false' }

t.test('AWS_S3_ENDPOINT at an IP address or localhost: path style unless told otherwise', async (t) => {
  const cases: Array<[string, string | undefined, boolean]> = [
    ['http://127.0.0.1:9000', undefined, true],
    ['http://[::1]:9000', undefined, true],
    ['http://localhost:9000', undefined, true],
    ['https://minio.example.com', undefined, false],
    ['http://s3.localhost:9000', undefined, false],
    ['https://minio.example.com', 'true', true],
    ['http://localhost:9000', 'false', false]
  ]
  for (const [endpoint, forced, pathStyle] of cases) {
    const config = loadConfig({ ...LOCAL_S3, AWS_S3_ENDPOINT: endpoint, AWS_S3_FORCE_PATH_STYLE: forced })
    t.equal(config.s3.forcePathStyle, pathStyle, `${endpoint}${forced !== undefined ? `, AWS_S3_FORCE_PATH_STYLE=${forced}` : ''}: ${pathStyle ? 'path style' : 'virtual-hosted'}`)
  }
  t.throws(() => loadConfig({ ...LOCAL_S3, AWS_S3_ENDPOINT: 'http://127.0.0.1:9000', AWS_S3_FORCE_PATH_STYLE: 'false' }),
    /AWS_S3_FORCE_PATH_STYLE: must be true \(or unset\) when AWS_S3_ENDPOINT is an IP address \(http:\/\/127\.0\.0\.1:9000\)/, 'an IP address with virtual-hosted addressing is refused, naming both')
  t.throws(() => loadConfig({ ...LOCAL_S3, AWS_S3_ENDPOINT: 'http://[nonsense:9000' }), /AWS_S3_ENDPOINT: "http:\/\/\[nonsense:9000" is not a valid URL/, 'an endpoint that is no URL is named')
})

t.test('the service starts against an S3 endpoint at 127.0.0.1 without AWS_S3_FORCE_PATH_STYLE', async (t) => {
  const app = await build(t, { ...LOCAL_S3, AWS_S3_ENDPOINT: 'http://127.0.0.1:1', DEMO: 'true' })
  const res = await app.inject({ method: 'POST', url: '/v1/uploads', headers: AUTH, payload: { ownerId: 'u1', contentType: 'image/png' } })
  t.equal(res.statusCode, 201)
  t.equal(res.json().upload.url, 'http://127.0.0.1:1/images', 'the form goes to the bucket, path style')
  t.match(res.json().publicUrl, /^http:\/\/127\.0\.0\.1:1\/images\/profile-images\/[0-9a-f]{32}\.png$/, 'and the image URL is path style too')
  const demo = await app.inject({ url: '/demo' })
  t.match(demo.headers['content-security-policy'], /connect-src 'self' http:\/\/127\.0\.0\.1:1;/, 'the demo page allows the bucket')

  const run = await runServer(t, { ...LOCAL_S3, AWS_S3_ENDPOINT: 'http://127.0.0.1:1', AWS_S3_FORCE_PATH_STYLE: 'false' })
  t.equal(run.code, 78, 'told virtual-hosted: exit code EX_CONFIG')
  t.match(run.stderr, /AWS_S3_FORCE_PATH_STYLE: must be true \(or unset\) when AWS_S3_ENDPOINT is an IP address/)
  t.notMatch(run.stderr, /Invalid URL/)
})
