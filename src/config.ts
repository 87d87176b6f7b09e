// The only reader of process.env: the environment is parsed once, at the edge, into one typed Config.
import { Value } from '@sinclair/typebox/value'
import { EnvSchema, type Env } from './env-schema.js'
import { BOOLEAN_WORDS, booleanOf, modeOf, ModeError, type Mode } from './mode.js'
import { DEFAULT_IMAGE_CONCURRENCY } from './images/concurrency.js'
import { DEFAULT_CONTENT_TYPES, formatOfId, formatOfType, FORMATS, type ImageFormat } from './uploads/formats.js'
import { parseRate, RATE_SYNTAX, type Rate } from './limits/rate.js'
import { parseTrustProxy, TRUST_PROXY_SYNTAX, type TrustProxy } from './limits/trust-proxy.js'

export { EnvSchema, type Env }
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
  /** Records that ended (uploads not pending or confirmed, events delivered or dead) are removed this long after. */
  retentionDays: number
  /** Rate limits (src/limits/rate-limits.ts); null: off. */
  rateLimits: {
    tickets: Rate | null
    browser: Rate | null
    /** Unset: counted per process. */
    redisUrl?: string
    redisKeyPrefix: string
  }
  /** Server caps (src/limits/server-caps.ts). */
  server: {
    trustProxy: TrustProxy
    /** Unset: from the process's open-file limit. */
    maxConnections?: number
    keepAliveTimeoutMs: number
  }
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
    else if (kind === 'boolean') out[name] = booleanOf(raw.trim()) ?? raw
    else out[name] = raw.trim()
  }
  return out
}

interface PropertySchema { type?: string, description?: string, minimum?: number, maximum?: number, minLength?: number, errorMessage?: string, anyOf?: Array<{ const?: unknown }> }

function describe (name: string, message: string): string {
  const schema = (EnvSchema.properties as Record<string, PropertySchema>)[name]
  return `${name}: ${message}${schema?.description ? ` — ${schema.description}` : ''}`
}

/** What a variable's value must be, in words (never the schema's own message: that names types and patterns). */
function expected (name: string, value: unknown): string {
  const schema = (EnvSchema.properties as Record<string, PropertySchema>)[name] ?? {}
  if (schema.errorMessage !== undefined) return schema.errorMessage
  if (schema.type === 'integer') return `must be a whole number from ${schema.minimum} to ${schema.maximum}`
  if (schema.type === 'boolean') return `must be a boolean: ${BOOLEAN_WORDS}`
  if (schema.anyOf !== undefined) return `must be one of ${schema.anyOf.map((s) => String(s.const)).join(', ')}`
  if ((schema.minLength ?? 0) > 1) return `must be at least ${schema.minLength} characters`
  return value === '' ? 'must not be empty' : 'is not in the expected form'
}

/** Parses the environment; throws a ConfigError naming every bad variable. */
export function loadConfig (source: NodeJS.ProcessEnv = process.env, randomSecret: () => string = defaultSecret): Config {
  const values = coerce(source)
  const invalid = new Map<string, string>()
  for (const e of Value.Errors(EnvSchema, values)) {
    const name = e.path.replace(/^\//, '')
    if (!invalid.has(name)) invalid.set(name, describe(name, expected(name, e.value)))
  }
  const problems = [...invalid.values()]
  let mode: Mode = 'development'
  try {
    mode = modeOf(values as Env)
  } catch (err) {
    if (!(err instanceof ModeError)) throw err
    problems.push(err.message)
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`)
  const env = values as Env
  const port = env.PORT ?? 3000

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
  // A bearer token with a space could never be sent, so never match: refused rather than silently useless.
  if (serviceTokens.some((t) => /\s/.test(t))) problems.push(describe('SERVICE_TOKENS', 'a token may not contain spaces or other whitespace; separate tokens with commas'))
  if (mode === 'production') {
    if (env.AWS_S3_BUCKET === undefined) problems.push(describe('AWS_S3_BUCKET', 'is required when ENVIRONMENT=production'))
    if (serviceTokens.length === 0) problems.push(describe('SERVICE_TOKENS', 'is required when ENVIRONMENT=production'))
  }
  if ((env.AWS_ACCESS_KEY_ID === undefined) !== (env.AWS_SECRET_ACCESS_KEY === undefined)) {
    problems.push(describe(env.AWS_ACCESS_KEY_ID === undefined ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY', 'set both access key variables, or neither to use the default credential chain'))
  }
  if (env.WEBHOOK_URL !== undefined && /^https?:\/\/[^/]*@/.test(env.WEBHOOK_URL)) problems.push(describe('WEBHOOK_URL', 'must not carry user:password@; deliveries are authenticated by their webhook-signature'))
  if (env.WEBHOOK_URL !== undefined && env.WEBHOOK_SECRET === undefined) problems.push(describe('WEBHOOK_SECRET', 'is required when WEBHOOK_URL is set'))
  const endpoint = env.AWS_S3_ENDPOINT?.replace(/\/+$/, '')
  const endpointHost = endpoint === undefined ? 'name' : hostKind(endpoint)
  if (endpointHost === undefined) problems.push(describe('AWS_S3_ENDPOINT', `"${endpoint}" is not a valid URL, like http://127.0.0.1:9000 or https://minio.example.com`))
  else if (endpointHost === 'address' && env.AWS_S3_FORCE_PATH_STYLE === false) {
    problems.push(describe('AWS_S3_FORCE_PATH_STYLE', `must be true (or unset) when AWS_S3_ENDPOINT is an IP address (${endpoint}): a bucket cannot be a subdomain of an address`))
  }
  const corsOrigins = list(env.CORS_ORIGINS)
  for (const o of corsOrigins) if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) problems.push(describe('CORS_ORIGINS', `"${o}" is not an origin like https://app.example.com`))
  const rate = (name: 'TICKET_RATE_LIMIT' | 'BROWSER_RATE_LIMIT', fallback: string): Rate | null => {
    const parsed = parseRate(env[name] ?? fallback)
    if (parsed === undefined) problems.push(`${name}: "${env[name] ?? ''}" is not ${RATE_SYNTAX}`)
    return parsed ?? null
  }
  const ticketRate = rate('TICKET_RATE_LIMIT', '30/30m')
  const browserRate = rate('BROWSER_RATE_LIMIT', '120/1m')
  const trustProxy = parseTrustProxy(env.TRUST_PROXY)
  if (trustProxy === undefined) problems.push(`TRUST_PROXY: "${env.TRUST_PROXY ?? ''}" is not ${TRUST_PROXY_SYNTAX}; unset, the connection's own address counts`)
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
      endpoint,
      // Unset: path style where virtual-hosted addressing cannot work (bucket.127.0.0.1 is no host name) or
      // seldom does (bucket.localhost resolves in browsers, not always for the service).
      forcePathStyle: env.AWS_S3_FORCE_PATH_STYLE ?? (endpointHost === 'address' || endpointHost === 'localhost'),
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
      concurrency: env.IMAGE_CONCURRENCY ?? DEFAULT_IMAGE_CONCURRENCY,
      queueLimit: env.IMAGE_QUEUE_LIMIT ?? 64
    },
    sweepIntervalSeconds: env.SWEEP_INTERVAL_SECONDS ?? 60,
    retentionDays: env.RETENTION_DAYS ?? 30,
    rateLimits: {
      tickets: ticketRate,
      browser: browserRate,
      redisUrl: env.REDIS_URL,
      redisKeyPrefix: env.REDIS_KEY_PREFIX ?? 'image-service:'
    },
    server: {
      trustProxy: trustProxy ?? false,
      maxConnections: env.MAX_CONNECTIONS,
      keepAliveTimeoutMs: (env.KEEP_ALIVE_TIMEOUT_SECONDS ?? 72) * 1000
    },
    database: {
      url: env.DATABASE_URL,
      dataDir: env.DATA_DIR ?? 'data',
      poolMax: env.DATABASE_POOL_MAX ?? 10,
      connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS ?? 5000,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS ?? 10_000
    }
  }
}

/** What the endpoint's host is: an IP address, localhost, or a name; undefined when the endpoint is no URL. */
function hostKind (endpoint: string): 'address' | 'localhost' | 'name' | undefined {
  let host: string
  try {
    host = new URL(endpoint).hostname
  } catch {
    return undefined
  }
  return host.startsWith('[') || /^\d+\.\d+\.\d+\.\d+$/.test(host) ? 'address' : host === 'localhost' ? 'localhost' : 'name'
}

function defaultSecret (): string {
  return globalThis.crypto.getRandomValues(Buffer.alloc(32)).toString('base64url')
}
