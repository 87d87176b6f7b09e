// The environment variables the service reads, as a TypeBox schema (config.ts checks the environment against it and
// turns it into a Config).
import { Type, type Static } from '@sinclair/typebox'
import { RATE_SYNTAX } from './limits/rate.js'
import { TRUST_PROXY_SYNTAX } from './limits/trust-proxy.js'
import { VARIANT_FORMATS } from './uploads/formats.js'

/**
 * Every number has a range the service can honour: none reaches a timer's limit (2^31-1 ms, or Node fires it at
 * once) or overflows a date; the message of a bad value states the range.
 */
const Int = (description: string, minimum: number, maximum: number) =>
  Type.Optional(Type.Integer({ minimum, maximum, description }))
const Bool = (description: string) => Type.Optional(Type.Boolean({ description }))
/** `errorMessage`: what a value must look like, in words, said instead of a pattern's regular expression. */
const Str = (description: string, extra: { pattern?: string, minLength?: number, errorMessage?: string } = {}) =>
  Type.Optional(Type.String({ minLength: 1, description, ...extra }))
const Url = (description: string) => Str(description, { pattern: '^https?://[^\\s]+$', errorMessage: 'must be an http:// or https:// URL, without spaces' })

const SECONDS_PER_DAY = 86_400

/** The environment as the service reads it. Unknown variables are ignored (the process env holds many). */
export const EnvSchema = Type.Object({
  ENVIRONMENT: Str('production → S3; development → the local folder (any case); unset → DEBUG decides'),
  DEBUG: Str('when ENVIRONMENT is unset: a false boolean (false, no, 0) → production; a true one → development'),
  HOST: Str('address to listen on'),
  PORT: Int('port to listen on', 0, 65_535),
  PUBLIC_BASE_URL: Url('base of development image URLs and of the development upload URL'),
  LOG_LEVEL: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { description: 'pino log level' })),
  SERVICE_TOKENS: Str('comma-separated bearer tokens for internal endpoints'),
  WEBHOOK_URL: Url('where confirmation webhooks are POSTed'),
  WEBHOOK_SECRET: Str('comma-separated Standard Webhooks secrets (whsec_ + base64); each one signs, so receivers can rotate', {
    pattern: '^whsec_[A-Za-z0-9+/=]+(,whsec_[A-Za-z0-9+/=]+)*$',
    errorMessage: 'must be whsec_ followed by base64 (letters, digits, +, / and =), several separated by commas without spaces'
  }),
  WEBHOOK_MAX_ATTEMPTS: Int('delivery attempts before an event is dead', 1, 1000),
  WEBHOOK_TIMEOUT_MS: Int('total timeout of one delivery attempt', 100, 600_000),
  WEBHOOK_CONCURRENCY: Int('deliveries in flight at once per replica', 1, 1000),
  WEBHOOK_BACKOFF_BASE_MS: Int('first retry delay (doubles each attempt, with jitter)', 1, SECONDS_PER_DAY * 1000),
  WEBHOOK_BACKOFF_MAX_MS: Int('longest retry delay', 1, 7 * SECONDS_PER_DAY * 1000),
  // Completion reads an upload into memory to decode it.
  MAX_UPLOAD_BYTES: Int('largest accepted image in bytes', 1, 1024 ** 3),
  ALLOWED_CONTENT_TYPES: Str('comma-separated image types accepted'),
  UPLOAD_TTL_SECONDS: Int('how long an upload ticket is valid', 1, 7 * SECONDS_PER_DAY),
  UPLOAD_GRACE_SECONDS: Int('how long after a ticket expired an upload that started in time may still land before the ticket counts as unused', 0, SECONDS_PER_DAY),
  UPLOAD_SIGNING_SECRET: Str('development only: secret that signs local upload policies (default: random per start)', { minLength: 16 }),
  SWEEP_INTERVAL_SECONDS: Int('how often uploads never completed are confirmed or expired, and records older than RETENTION_DAYS removed (0 disables both)', 0, SECONDS_PER_DAY),
  RETENTION_DAYS: Int('days an upload that ended (rejected, expired, replaced, deleted) and a delivered or dead webhook event are kept before they are removed', 1, 3650),
  AWS_ACCESS_KEY_ID: Str('IAM access key (else the default credential chain)'),
  AWS_SECRET_ACCESS_KEY: Str('IAM secret key'),
  AWS_SESSION_TOKEN: Str('temporary credentials session token'),
  AWS_REGION: Str('bucket region'),
  AWS_S3_BUCKET: Str('bucket name', { pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', errorMessage: 'must be an S3 bucket name: 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit' }),
  AWS_S3_CUSTOM_DOMAIN: Str('CloudFront or custom domain serving the bucket', { pattern: '^[A-Za-z0-9.-]+(:[0-9]+)?$', errorMessage: 'must be a host name, optionally with :port, without scheme or path (cdn.example.com)' }),
  AWS_S3_ENDPOINT: Url('S3-compatible endpoint'),
  AWS_S3_FORCE_PATH_STYLE: Bool('path-style addressing'),
  S3_KEY_PREFIX: Str('key prefix in the bucket', { pattern: '^([A-Za-z0-9_-]+/)+$', errorMessage: 'must be one or more folder names each ending in / (letters, digits, _ and -), like profile-images/' }),
  S3_ACL: Type.Optional(Type.Union([Type.Literal('public-read'), Type.Literal('none')], { description: 'none for buckets whose ACLs are disabled' })),
  S3_SELF_CHECK: Bool('production start-up probe of the bucket'),
  CORS_ORIGINS: Str('comma-separated browser origins, or *'),
  DEMO: Bool('serve the demo upload page at /demo (default: on in development, off in production)'),
  DATABASE_URL: Str('unset → SQLite under DATA_DIR; postgres://… → PostgreSQL', { pattern: '^(postgres|postgresql)://', errorMessage: 'must be a postgres:// or postgresql:// URL' }),
  DATA_DIR: Str('folder of the SQLite file'),
  UPLOADS_DIR: Str('development: folder holding profile/ (default uploads)'),
  DATABASE_POOL_MAX: Int('PostgreSQL pool size', 1, 1000),
  DATABASE_CONNECT_TIMEOUT_MS: Int('PostgreSQL connect timeout', 1, 600_000),
  DATABASE_STATEMENT_TIMEOUT_MS: Int('PostgreSQL statement timeout', 1, 3_600_000),
  MAX_IMAGE_PIXELS: Int('largest image area in pixels (width × height, all frames of an animation together), checked before decoding', 1, 268_402_689),
  MAX_IMAGE_FRAMES: Int('most frames an animated GIF or WebP may have', 1, 10_000),
  IMAGE_MAX_SIDE: Int('the published image is scaled down to fit this many pixels on its longer side', 16, 16_383),
  IMAGE_VARIANTS: Type.Optional(Type.String({ description: 'comma-separated sizes in pixels of the square variants (empty: none)' })),
  IMAGE_VARIANT_FORMAT: Type.Optional(Type.Union(VARIANT_FORMATS.map((f) => Type.Literal(f)), { description: 'format of the square variants' })),
  IMAGE_CONCURRENCY: Int('images processed at once per replica', 1, 64),
  IMAGE_QUEUE_LIMIT: Int('completions waiting for processing before more are answered 503 with Retry-After', 0, 100_000),
  // Abuse limits (src/limits/, docs/limits.md).
  TICKET_RATE_LIMIT: Str(`upload tickets per owner: ${RATE_SYNTAX}`),
  BROWSER_RATE_LIMIT: Str(`requests per client address on the browser endpoints: ${RATE_SYNTAX}`),
  TRUST_PROXY: Str(`proxies whose X-Forwarded-For gives the client address: ${TRUST_PROXY_SYNTAX}`),
  REDIS_URL: Str('rate-limit counters shared by every replica', { pattern: '^rediss?://[^\\s]+$', errorMessage: 'must be a redis:// or rediss:// URL, without spaces' }),
  REDIS_KEY_PREFIX: Str('prefix of the rate-limit keys in Redis', { pattern: '^[A-Za-z0-9:_.-]{1,64}$', errorMessage: 'must be 1 to 64 letters, digits and : _ . -' }),
  MAX_CONNECTIONS: Int('client connections open at once; more are refused', 1, 1_000_000),
  KEEP_ALIVE_TIMEOUT_SECONDS: Int('how long an idle keep-alive connection stays open; keep it above the load balancer\'s idle timeout', 1, 3600)
})
export type Env = Static<typeof EnvSchema>
