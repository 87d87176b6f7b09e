// The only reader of process.env: the environment is parsed once, at the edge, into one typed Config.
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { modeOf, type Mode } from './mode.js'
import { DEFAULT_CONTENT_TYPES, formatOfId, formatOfType, FORMATS, VARIANT_FORMATS, type ImageFormat } from './uploads/formats.js'

const Int = (description: string, minimum = 0, maximum?: number) =>
  Type.Optional(Type.Integer({ minimum, ...(maximum !== undefined ? { maximum } : {}), description: maximum !== undefined ? `${description} (${minimum} to ${maximum})` : description }))
const Bool = (description: string) => Type.Optional(Type.Boolean({ description }))
const Str = (description: string, extra: object = {}) =>
  Type.Optional(Type.String({ minLength: 1, description, ...extra }))
const Url = (description: string) => Str(description, { pattern: '^https?://[^\\s]+$' })

/** The environment as the service reads it. Unknown variables are ignored (the process env holds many). */
export const EnvSchema = Type.Object({
  ENVIRONMENT: Str('production → S3; anything else → development'),
  DEBUG: Str('used when ENVIRONMENT is unset: false/0 → production'),
  HOST: Str('address to listen on'),
  PORT: Int('port to listen on (0..65535)'),
  PUBLIC_BASE_URL: Url('base of development image URLs and of the development upload URL'),
  LOG_LEVEL: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)))),
  SERVICE_TOKENS: Str('comma-separated bearer tokens for internal endpoints'),
  WEBHOOK_URL: Url('where confirmation webhooks are POSTed'),
  WEBHOOK_SECRET: Str('comma-separated Standard Webhooks secrets (whsec_ + base64); each one signs, so receivers can rotate', {
    pattern: '^whsec_[A-Za-z0-9+/=]+(,whsec_[A-Za-z0-9+/=]+)*$'
  }),
  WEBHOOK_MAX_ATTEMPTS: Int('delivery attempts before an event is dead', 1),
  WEBHOOK_TIMEOUT_MS: Int('total timeout of one delivery attempt', 100),
  WEBHOOK_CONCURRENCY: Int('deliveries in flight at once per replica', 1),
  WEBHOOK_BACKOFF_BASE_MS: Int('first retry delay (doubles each attempt, with jitter)', 1),
  WEBHOOK_BACKOFF_MAX_MS: Int('longest retry delay', 1),
  MAX_UPLOAD_BYTES: Int('largest accepted image in bytes', 1),
  ALLOWED_CONTENT_TYPES: Str('comma-separated image types accepted'),
  UPLOAD_TTL_SECONDS: Int('how long an upload ticket is valid', 1),
  UPLOAD_GRACE_SECONDS: Int('how long after a ticket expired an upload that started in time may still land before the ticket counts as unused'),
  UPLOAD_SIGNING_SECRET: Str('development only: secret that signs local upload policies (default: random per start)', { minLength: 16 }),
  SWEEP_INTERVAL_SECONDS: Int('how often uploads never completed are confirmed or expired (0 disables)'),
  AWS_ACCESS_KEY_ID: Str('IAM access key (else the default credential chain)'),
  AWS_SECRET_ACCESS_KEY: Str('IAM secret key'),
  AWS_SESSION_TOKEN: Str('temporary credentials session token'),
  AWS_REGION: Str('bucket region'),
  AWS_S3_BUCKET: Str('bucket name', { pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' }),
  AWS_S3_CUSTOM_DOMAIN: Str('CloudFront or custom domain serving the bucket (host name, no scheme)', { pattern: '^[A-Za-z0-9.-]+(:[0-9]+)?$' }),
  AWS_S3_ENDPOINT: Url('S3-compatible endpoint'),
  AWS_S3_FORCE_PATH_STYLE: Bool('path-style addressing (true/false)'),
  S3_KEY_PREFIX: Str('key prefix in the bucket, ending in /', { pattern: '^([A-Za-z0-9_-]+/)+$' }),
  S3_ACL: Type.Optional(Type.Union([Type.Literal('public-read'), Type.Literal('none')], { description: 'public-read or none' })),
  S3_SELF_CHECK: Bool('production start-up probe of the bucket (true/false)'),
  CORS_ORIGINS: Str('comma-separated browser origins, or *'),
  DEMO: Bool('serve the demo upload page at /demo (true/false; default: on in development, off in production)'),
  DATABASE_URL: Str('unset → SQLite under DATA_DIR; postgres://… → PostgreSQL', { pattern: '^(postgres|postgresql)://' }),
  DATA_DIR: Str('folder of the SQLite file'),
  UPLOADS_DIR: Str('development: folder holding profile/ (default uploads)'),
  DATABASE_POOL_MAX: Int('PostgreSQL pool size', 1),
  DATABASE_CONNECT_TIMEOUT_MS: Int('PostgreSQL connect timeout', 1),
  DATABASE_STATEMENT_TIMEOUT_MS: Int('PostgreSQL statement timeout', 1),
  MAX_IMAGE_PIXELS: Int('largest image area in pixels (width × height, all frames of an animation together), checked before decoding', 1, 268_402_689),
  MAX_IMAGE_FRAMES: Int('most frames an animated GIF or WebP may have', 1, 10_000),
  IMAGE_MAX_SIDE: Int('the published image is scaled down to fit this many pixels on its longer side', 16, 16_383),
  IMAGE_VARIANTS: Type.Optional(Type.String({ description: 'comma-separated sizes in pixels of the square variants (empty: none)' })),
  IMAGE_VARIANT_FORMAT: Type.Optional(Type.Union(VARIANT_FORMATS.map((f) => Type.Literal(f)), { description: `format of the variants: ${VARIANT_FORMATS.join(', ')}` })),
  IMAGE_CONCURRENCY: Int('images processed at once per replica', 1, 64),
  IMAGE_QUEUE_LIMIT: Int('completions waiting for processing before more are answered 503 with Retry-After', 0, 100_000)
})
export type Env = Static<typeof EnvSchema>

export { modeOf, type Mode }

export interface Config {
  mode: Mode
  host: string
  port: number
  publicBaseUrl: string
  logLevel: string
  /** Empty: internal endpoints are open (development only; refused in production). */
  serviceTokens: string[]
  corsOrigins: string[]
  /** The demo page at /demo, with its own ticket endpoint standing in for the main backend. */
  demo: boolean
  upload: {
    maxBytes: number
    allowedContentTypes: string[]
    ttlSeconds: number
    /** After expiry, how long a transfer that began in time may still land before the upload is expired. */
    graceSeconds: number
    /** Development: HMAC secret of the local POST policy. */
    signingSecret: string
    /** Development: uploads/ (images live in uploads/profile/). */
    dir: string
  }
  s3: {
    bucket: string
    region: string
    customDomain?: string
    endpoint?: string
    forcePathStyle: boolean
    keyPrefix: string
    acl: 'public-read' | 'none'
    selfCheck: boolean
    credentials?: { accessKeyId: string, secretAccessKey: string, sessionToken?: string }
  }
  webhook: {
    url?: string
    secrets: string[]
    maxAttempts: number
    timeoutMs: number
    concurrency: number
    backoffBaseMs: number
    backoffMaxMs: number
  }
  images: {
    maxPixels: number
    maxFrames: number
    maxSide: number
    /** Ascending, without duplicates. */
    variants: number[]
    variantFormat: ImageFormat
    concurrency: number
    queueLimit: number
  }
  sweepIntervalSeconds: number
  database: {
    url?: string
    dataDir: string
    poolMax: number
    connectTimeoutMs: number
    statementTimeoutMs: number
  }
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const NEVER_IMAGES = /svg|html|xml|javascript|text\//i
const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)

/** Environment strings → typed values (integers, booleans) so the schema can check them. */
function coerce (env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, schema] of Object.entries(EnvSchema.properties)) {
    const raw = env[name]
    if (raw === undefined || raw === '') continue
    const kind = (schema as { type?: string }).type
    if (kind === 'integer') out[name] = /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw
    else if (kind === 'boolean') out[name] = /^(true|1|yes)$/i.test(raw) ? true : /^(false|0|no)$/i.test(raw) ? false : raw
    else out[name] = raw.trim()
  }
  return out
}

function describe (name: string, message: string): string {
  const schema = (EnvSchema.properties as Record<string, { description?: string }>)[name]
  const what = message === 'expected union value' ? 'not an accepted value' : message
  return `${name}: ${what}${schema?.description ? ` — ${schema.description}` : ''}`
}

/** Parses the environment; throws a ConfigError naming every bad variable. */
export function loadConfig (source: NodeJS.ProcessEnv = process.env, randomSecret: () => string = defaultSecret): Config {
  const values = coerce(source)
  const problems = [...Value.Errors(EnvSchema, values)].map((e) => describe(e.path.replace(/^\//, ''), e.message.toLowerCase()))
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`)
  const env = values as Env
  const mode = modeOf(env)
  const port = env.PORT ?? 3000
  if (port > 65535) problems.push(describe('PORT', 'must be at most 65535'))

  const allowed = list(env.ALLOWED_CONTENT_TYPES ?? DEFAULT_CONTENT_TYPES.join(',')).map((t) => t.toLowerCase())
  for (const t of allowed) {
    if (NEVER_IMAGES.test(t) || !/^image\/[a-z0-9.+-]+$/.test(t)) problems.push(describe('ALLOWED_CONTENT_TYPES', `"${t}" is not an accepted image type; SVG, HTML and scripts are never accepted`))
    else if (formatOfType(t) === undefined) problems.push(describe('ALLOWED_CONTENT_TYPES', `"${t}" cannot be verified; supported: ${FORMATS.map((f) => f.contentType).join(', ')}`))
  }
  // Set but empty means no variants (other variables treat empty as unset).
  const variantText = source.IMAGE_VARIANTS ?? '64,128,256,512'
  const variants = [...new Set(list(variantText).map(Number))].sort((a, b) => a - b)
  if (list(variantText).some((v) => !/^\d+$/.test(v)) || variants.some((v) => v < 1 || v > 4096)) {
    problems.push(describe('IMAGE_VARIANTS', `"${variantText}" is not a list of sizes from 1 to 4096 pixels, like 64,128,256`))
  }
  const serviceTokens = list(env.SERVICE_TOKENS)
  if (serviceTokens.some((t) => t.length < 16)) problems.push(describe('SERVICE_TOKENS', 'each token must be at least 16 characters'))
  if (mode === 'production') {
    if (env.AWS_S3_BUCKET === undefined) problems.push(describe('AWS_S3_BUCKET', 'is required when ENVIRONMENT=production'))
    if (serviceTokens.length === 0) problems.push(describe('SERVICE_TOKENS', 'is required when ENVIRONMENT=production'))
  }
  if ((env.AWS_ACCESS_KEY_ID === undefined) !== (env.AWS_SECRET_ACCESS_KEY === undefined)) {
    problems.push(describe(env.AWS_ACCESS_KEY_ID === undefined ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY', 'set both access key variables, or neither to use the default credential chain'))
  }
  if (env.WEBHOOK_URL !== undefined && /^https?:\/\/[^/]*@/.test(env.WEBHOOK_URL)) problems.push(describe('WEBHOOK_URL', 'must not carry user:password@; deliveries are authenticated by their webhook-signature'))
  if (env.WEBHOOK_URL !== undefined && env.WEBHOOK_SECRET === undefined) problems.push(describe('WEBHOOK_SECRET', 'is required when WEBHOOK_URL is set'))
  const corsOrigins = list(env.CORS_ORIGINS)
  for (const o of corsOrigins) if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) problems.push(describe('CORS_ORIGINS', `"${o}" is not an origin like https://app.example.com`))
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`)

  return {
    mode,
    host: env.HOST ?? '0.0.0.0',
    port,
    publicBaseUrl: (env.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    logLevel: env.LOG_LEVEL ?? 'info',
    serviceTokens,
    corsOrigins,
    demo: env.DEMO ?? mode === 'development',
    upload: {
      maxBytes: env.MAX_UPLOAD_BYTES ?? 5 * 1024 * 1024,
      allowedContentTypes: allowed,
      ttlSeconds: env.UPLOAD_TTL_SECONDS ?? 600,
      graceSeconds: env.UPLOAD_GRACE_SECONDS ?? 300,
      signingSecret: env.UPLOAD_SIGNING_SECRET ?? randomSecret(),
      dir: env.UPLOADS_DIR ?? 'uploads'
    },
    s3: {
      bucket: env.AWS_S3_BUCKET ?? '',
      region: env.AWS_REGION ?? 'ap-southeast-1',
      customDomain: env.AWS_S3_CUSTOM_DOMAIN,
      endpoint: env.AWS_S3_ENDPOINT?.replace(/\/+$/, ''),
      forcePathStyle: env.AWS_S3_FORCE_PATH_STYLE ?? false,
      keyPrefix: env.S3_KEY_PREFIX ?? 'profile-images/',
      acl: env.S3_ACL ?? 'public-read',
      selfCheck: env.S3_SELF_CHECK ?? true,
      credentials: env.AWS_ACCESS_KEY_ID !== undefined && env.AWS_SECRET_ACCESS_KEY !== undefined
        ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) }
        : undefined
    },
    webhook: {
      url: env.WEBHOOK_URL,
      secrets: list(env.WEBHOOK_SECRET),
      maxAttempts: env.WEBHOOK_MAX_ATTEMPTS ?? 12,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS ?? 10_000,
      concurrency: env.WEBHOOK_CONCURRENCY ?? 8,
      backoffBaseMs: env.WEBHOOK_BACKOFF_BASE_MS ?? 1000,
      backoffMaxMs: env.WEBHOOK_BACKOFF_MAX_MS ?? 3_600_000
    },
    images: {
      maxPixels: env.MAX_IMAGE_PIXELS ?? 40_000_000,
      maxFrames: env.MAX_IMAGE_FRAMES ?? 100,
      maxSide: env.IMAGE_MAX_SIDE ?? 1024,
      variants,
      variantFormat: formatOfId(env.IMAGE_VARIANT_FORMAT ?? 'webp') as ImageFormat,
      concurrency: env.IMAGE_CONCURRENCY ?? 2,
      queueLimit: env.IMAGE_QUEUE_LIMIT ?? 64
    },
    sweepIntervalSeconds: env.SWEEP_INTERVAL_SECONDS ?? 60,
    database: {
      url: env.DATABASE_URL,
      dataDir: env.DATA_DIR ?? 'data',
      poolMax: env.DATABASE_POOL_MAX ?? 10,
      connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS ?? 5000,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS ?? 10_000
    }
  }
}

function defaultSecret (): string {
  return globalThis.crypto.getRandomValues(Buffer.alloc(32)).toString('base64url')
}
