// The environment → Config: defaults, modes, and bad values named in the error.
import t from 'tap'
import { availableParallelism } from 'node:os'
import { DEFAULT_IMAGE_CONCURRENCY } from '../src/images/concurrency.js'
import { ConfigError, EnvSchema, loadConfig, modeOf } from '../src/config.js'

t.test('embedded defaults: development, local folder, SQLite', async (t) => {
  const c = loadConfig({}, () => 'random-secret')
  t.equal(c.mode, 'development')
  t.equal(c.port, 3000)
  t.equal(c.host, '0.0.0.0')
  t.equal(c.publicBaseUrl, 'http://localhost:3000')
  t.equal(c.upload.maxBytes, 5242880)
  t.same(c.upload.allowedContentTypes, ['image/jpeg', 'image/png', 'image/webp', 'image/gif'])
  t.equal(c.upload.ttlSeconds, 600)
  t.equal(c.upload.signingSecret, 'random-secret')
  t.equal(c.s3.region, 'ap-southeast-1')
  t.equal(c.s3.keyPrefix, 'profile-images/')
  t.equal(c.s3.acl, 'public-read')
  t.equal(c.database.url, undefined)
  t.equal(c.database.dataDir, 'data')
  t.same(c.serviceTokens, [])
})

t.test('mode: ENVIRONMENT, else DEBUG', async (t) => {
  t.equal(modeOf({ ENVIRONMENT: 'production' }), 'production')
  t.equal(modeOf({ ENVIRONMENT: 'PRODUCTION' }), 'production')
  t.equal(modeOf({ ENVIRONMENT: 'Development' }), 'development')
  t.equal(modeOf({ ENVIRONMENT: 'development', DEBUG: 'false' }), 'development')
  t.equal(modeOf({ DEBUG: 'false' }), 'production')
  t.equal(modeOf({ DEBUG: '0' }), 'production')
  t.equal(modeOf({ DEBUG: 'true' }), 'development')
  t.equal(modeOf({}), 'development')
  // As loadConfig reads variables (trimmed, empty is unset): the entry point decides on the raw environment.
  t.equal(modeOf({ ENVIRONMENT: ' production ' }), 'production')
  t.equal(modeOf({ ENVIRONMENT: '', DEBUG: '0' }), 'production')
  t.equal(modeOf({ ENVIRONMENT: '  ', DEBUG: ' false ' }), 'production')
  t.equal(loadConfig({ ENVIRONMENT: '', DEBUG: '0', AWS_S3_BUCKET: 'my-bucket', SERVICE_TOKENS: 'token-0123456789abcdef' }).mode, 'production', 'the same mode as loadConfig')
})

t.test('seed variables are honoured', async (t) => {
  const c = loadConfig({
    ENVIRONMENT: 'production',
    AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_REGION: 'eu-west-1',
    AWS_S3_BUCKET: 'my-bucket',
    AWS_S3_CUSTOM_DOMAIN: 'cdn.example.com',
    SERVICE_TOKENS: 'aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbb',
    S3_ACL: 'none',
    CORS_ORIGINS: 'https://app.example.com'
  })
  t.equal(c.mode, 'production')
  t.same(c.s3.credentials, { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' })
  t.equal(c.s3.region, 'eu-west-1')
  t.equal(c.s3.bucket, 'my-bucket')
  t.equal(c.s3.customDomain, 'cdn.example.com')
  t.equal(c.s3.acl, 'none')
  t.same(c.serviceTokens, ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb'])
  t.same(c.corsOrigins, ['https://app.example.com'])
  t.equal(loadConfig({ ENVIRONMENT: 'production', AWS_S3_BUCKET: 'b-1', SERVICE_TOKENS: 'aaaaaaaaaaaaaaaa' }).s3.credentials, undefined, 'no keys: default chain')
})

t.test('bad values stop the start, naming the variable and what it expects', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'abc' }, /PORT: must be a whole number from 0 to 65535/],
    [{ PORT: '70000' }, /PORT: must be a whole number from 0 to 65535/],
    [{ MAX_UPLOAD_BYTES: '0' }, /MAX_UPLOAD_BYTES: /],
    [{ ALLOWED_CONTENT_TYPES: 'image/png,image/svg+xml' }, /ALLOWED_CONTENT_TYPES: "image\/svg\+xml" .*never accepted/],
    [{ ALLOWED_CONTENT_TYPES: 'text/html' }, /ALLOWED_CONTENT_TYPES: "text\/html"/],
    [{ ALLOWED_CONTENT_TYPES: 'image/tiff' }, /ALLOWED_CONTENT_TYPES: "image\/tiff" cannot be verified/],
    [{ S3_ACL: 'private' }, /S3_ACL: must be one of public-read, none/],
    [{ AWS_S3_FORCE_PATH_STYLE: 'maybe' }, /AWS_S3_FORCE_PATH_STYLE: must be a boolean/],
    [{ PUBLIC_BASE_URL: 'localhost:3000' }, /PUBLIC_BASE_URL: /],
    [{ WEBHOOK_URL: 'http://hooks.example.com' }, /WEBHOOK_SECRET: is required when WEBHOOK_URL is set/],
    [{ WEBHOOK_SECRET: 'not-whsec' }, /WEBHOOK_SECRET: /],
    [{ WEBHOOK_URL: 'https://user:pw@hooks.example.com/x', WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, /WEBHOOK_URL: must not carry user:password@/],
    [{ SERVICE_TOKENS: 'short' }, /SERVICE_TOKENS: each token must be at least 16 characters/],
    [{ CORS_ORIGINS: 'app.example.com' }, /CORS_ORIGINS: "app.example.com" is not an origin/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: /],
    [{ AWS_ACCESS_KEY_ID: 'AKIA' }, /AWS_SECRET_ACCESS_KEY: set both/],
    [{ ENVIRONMENT: 'production', SERVICE_TOKENS: 'aaaaaaaaaaaaaaaa' }, /AWS_S3_BUCKET: is required when ENVIRONMENT=production/],
    [{ ENVIRONMENT: 'production', AWS_S3_BUCKET: 'b-1' }, /SERVICE_TOKENS: is required when ENVIRONMENT=production/],
    [{ DEBUG: 'false', AWS_S3_BUCKET: 'b-1' }, /SERVICE_TOKENS: is required/]
  ]
  for (const [env, message] of cases) {
    t.throws(() => loadConfig(env), { name: 'ConfigError', message }, JSON.stringify(env))
  }
  t.ok(new ConfigError('x') instanceof Error)
})

t.test('image settings: defaults, ranges named in the message', async (t) => {
  const c = loadConfig({}, () => 'random-secret')
  t.match(c.images, { maxPixels: 40_000_000, maxFrames: 100, maxSide: 1024, variants: [64, 128, 256, 512], variantFormat: { id: 'webp' }, concurrency: DEFAULT_IMAGE_CONCURRENCY, queueLimit: 64 })
  t.equal(DEFAULT_IMAGE_CONCURRENCY, Math.min(8, Math.max(2, availableParallelism() + 1)), 'one per core plus one, 2 to 8')
  t.same(loadConfig({ IMAGE_VARIANTS: '512, 64,64' }).images.variants, [64, 512], 'sorted, without duplicates')
  t.same(loadConfig({ IMAGE_VARIANTS: '' }).images.variants, [], 'set but empty: none')
  t.equal(loadConfig({ IMAGE_VARIANT_FORMAT: 'avif' }).images.variantFormat.contentType, 'image/avif')
  t.same(loadConfig({ ALLOWED_CONTENT_TYPES: 'image/avif,image/png' }).upload.allowedContentTypes, ['image/avif', 'image/png'], 'AVIF uploads, a row of the format table')
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ MAX_IMAGE_PIXELS: '0' }, /MAX_IMAGE_PIXELS: .*1 to 268402689/],
    [{ MAX_IMAGE_PIXELS: '300000000' }, /MAX_IMAGE_PIXELS: .*1 to 268402689/],
    [{ MAX_IMAGE_FRAMES: '20000' }, /MAX_IMAGE_FRAMES: .*1 to 10000/],
    [{ IMAGE_MAX_SIDE: '8' }, /IMAGE_MAX_SIDE: .*16 to 16383/],
    [{ IMAGE_VARIANTS: '64,big' }, /IMAGE_VARIANTS: "64,big" is not a list of sizes from 1 to 4096 pixels/],
    [{ IMAGE_VARIANTS: '0' }, /IMAGE_VARIANTS/],
    [{ IMAGE_VARIANT_FORMAT: 'gif' }, /IMAGE_VARIANT_FORMAT: .*webp, avif|IMAGE_VARIANT_FORMAT: .*jpeg/],
    [{ IMAGE_CONCURRENCY: '0' }, /IMAGE_CONCURRENCY/],
    [{ ALLOWED_CONTENT_TYPES: 'image/tiff' }, /ALLOWED_CONTENT_TYPES: "image\/tiff" cannot be verified; supported: image\/jpeg, image\/png, image\/webp, image\/gif, image\/avif/]
  ]
  for (const [env, message] of bad) t.throws(() => loadConfig(env), { name: 'ConfigError', message }, JSON.stringify(env))
})

t.test('ENVIRONMENT: production or development (any case); anything else stops the start, naming it', async (t) => {
  t.equal(loadConfig({ ENVIRONMENT: 'DEVELOPMENT' }).mode, 'development')
  t.equal(loadConfig({ ENVIRONMENT: 'Production', AWS_S3_BUCKET: 'b-1', SERVICE_TOKENS: 'aaaaaaaaaaaaaaaa' }).mode, 'production')
  for (const value of ['prod', 'staging', 'dev', 'test', 'productio', 'production,']) {
    const message = new RegExp(`ENVIRONMENT: "${value}" is neither production nor development`)
    t.throws(() => loadConfig({ ENVIRONMENT: value }), { name: 'ConfigError', message }, `loadConfig: ${value}`)
    t.throws(() => modeOf({ ENVIRONMENT: value }), { message }, `modeOf (the entry point): ${value}`)
  }
})

t.test('DEBUG takes the boolean words of every other boolean', async (t) => {
  for (const word of ['false', 'FALSE', '0', 'no', 'No']) t.equal(modeOf({ DEBUG: word }), 'production', `DEBUG=${word}`)
  for (const word of ['true', '1', 'yes', 'YES']) t.equal(modeOf({ DEBUG: word }), 'development', `DEBUG=${word}`)
  t.throws(() => modeOf({ DEBUG: 'off' }), { message: /DEBUG: "off" is not a boolean/ })
  t.throws(() => loadConfig({ DEBUG: 'nope' }), { name: 'ConfigError', message: /DEBUG: "nope" is not a boolean: true, false, yes, no, 1 or 0/ })
  t.equal(modeOf({ ENVIRONMENT: 'development', DEBUG: 'express:*' }), 'development', 'with ENVIRONMENT set, DEBUG decides nothing (and may be the debug package\'s)')
  t.equal(loadConfig({ AWS_S3_FORCE_PATH_STYLE: 'yes', S3_SELF_CHECK: 'no' }).s3.forcePathStyle, true, 'the same words for every boolean')
  t.equal(loadConfig({ S3_SELF_CHECK: 'no' }).s3.selfCheck, false)
})

t.test('every number has a range the service can honour, given in the message', async (t) => {
  const numbers = Object.entries(EnvSchema.properties as Record<string, { type?: string, minimum?: number, maximum?: number }>).filter(([, s]) => s.type === 'integer')
  t.ok(numbers.length >= 20, `${numbers.length} numeric variables`)
  for (const [name, schema] of numbers) {
    const { minimum, maximum } = schema
    if (minimum === undefined || maximum === undefined) { t.fail(`${name} has no range`); continue }
    t.ok(maximum <= 2 ** 31 - 1, `${name}: at most 2^31-1 (a timer, a date offset, a PostgreSQL integer)`)
    const message = new RegExp(`${name}: must be a whole number from ${minimum} to ${maximum}`)
    for (const bad of [String(maximum + 1), String(minimum - 1), '1.5', '9e12', 'ten']) {
      t.throws(() => loadConfig({ [name]: bad }), { name: 'ConfigError', message }, `${name}=${bad}`)
    }
    t.doesNotThrow(() => loadConfig({ [name]: String(maximum) }), `${name}=${maximum} is accepted`)
  }
  // The attack run's values.
  t.throws(() => loadConfig({ SWEEP_INTERVAL_SECONDS: '3000000' }), /SWEEP_INTERVAL_SECONDS: must be a whole number from 0 to/)
  t.throws(() => loadConfig({ WEBHOOK_TIMEOUT_MS: '3000000000' }), /WEBHOOK_TIMEOUT_MS: must be a whole number from 100 to/)
  t.throws(() => loadConfig({ UPLOAD_TTL_SECONDS: '9e12' }), /UPLOAD_TTL_SECONDS: must be a whole number from 1 to/)
  const c = loadConfig({ UPLOAD_TTL_SECONDS: String((EnvSchema.properties.UPLOAD_TTL_SECONDS as { maximum: number }).maximum), UPLOAD_GRACE_SECONDS: String((EnvSchema.properties.UPLOAD_GRACE_SECONDS as { maximum: number }).maximum) })
  t.ok(Number.isFinite(new Date(Date.now() + (c.upload.ttlSeconds + c.upload.graceSeconds) * 1000).getTime()), 'the longest ticket still has a date')
})

t.test('RETENTION_DAYS: 30 by default; 1 to 3650, anything else refused with the range', async (t) => {
  t.equal(loadConfig({}).retentionDays, 30)
  t.equal(loadConfig({ RETENTION_DAYS: '1' }).retentionDays, 1)
  t.equal(loadConfig({ RETENTION_DAYS: '3650' }).retentionDays, 3650)
  for (const bad of ['0', '3651', '-1', '30d', '1e9']) {
    t.throws(() => loadConfig({ RETENTION_DAYS: bad }), { name: 'ConfigError', message: /RETENTION_DAYS: must be a whole number from 1 to 3650/ }, bad)
  }
})

t.test('a service token containing whitespace is refused, not silently never matched', async (t) => {
  for (const tokens of ['aaaaaaaa bbbbbbbbbbbb', 'aaaaaaaaaaaaaaaa,bbbbbbbb\tbbbbbbbb']) {
    t.throws(() => loadConfig({ SERVICE_TOKENS: tokens }), { name: 'ConfigError', message: /SERVICE_TOKENS: a token may not contain spaces/ }, JSON.stringify(tokens))
  }
  t.same(loadConfig({ SERVICE_TOKENS: ' aaaaaaaaaaaaaaaa , bbbbbbbbbbbbbbbb ' }).serviceTokens, ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb'], 'spaces around the commas are fine')
})

t.test('messages say in words what is expected, never a regular expression', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['PUBLIC_BASE_URL', 'localhost:3000', /must be an http:\/\/ or https:\/\/ URL/],
    ['WEBHOOK_URL', 'ftp://hooks.example.com', /must be an http:\/\/ or https:\/\/ URL/],
    ['AWS_S3_ENDPOINT', 'minio:9000', /must be an http:\/\/ or https:\/\/ URL/],
    ['WEBHOOK_SECRET', 'not-whsec', /must be whsec_ followed by base64/],
    ['AWS_S3_BUCKET', 'My_Bucket', /must be an S3 bucket name: 3 to 63 lower-case letters, digits, dots and hyphens/],
    ['AWS_S3_CUSTOM_DOMAIN', 'https://cdn.example.com', /must be a host name, optionally with :port, without scheme or path/],
    ['S3_KEY_PREFIX', 'images', /must be one or more folder names each ending in \//],
    ['DATABASE_URL', 'mysql://x', /must be a postgres:\/\/ or postgresql:\/\/ URL/],
    ['UPLOAD_SIGNING_SECRET', 'short', /must be at least 16 characters/],
    ['LOG_LEVEL', 'verbose', /must be one of fatal, error, warn, info, debug, trace, silent/],
    ['HOST', '   ', /must not be empty/]
  ]
  for (const [name, value, expected] of cases) {
    const err = t.throws(() => loadConfig({ [name]: value }), { name: 'ConfigError' }) as Error
    t.match(err.message, new RegExp(`\n  ${name}: ${expected.source}`), `${name}: ${err.message}`)
    t.notMatch(err.message, /pattern|\^|\$'|\\[sdw]|\[\^|expected (string|union|integer)/i, `${name}: no regular expression or schema jargon`)
  }
})
