// The rate limits (@fastify/rate-limit), as hooks the routes attach: TICKET_RATE_LIMIT per owner on
// POST /v1/uploads, BROWSER_RATE_LIMIT per client address (IPv6 by /64) on the browser endpoints, in fixed windows
// aligned to the clock. Counted per process (local-counters.ts), or in Redis for every replica together when
// REDIS_URL is set (redis-counters.ts, failing open). A refusal is 429 RATE_LIMITED naming the limit, with
// Retry-After and the RateLimit-* headers (IETF draft), which every answer of a limited route carries.
import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import { appError } from '../errors.js'
import { tokenMatcher } from '../plugins/service-auth.js'
import type { Rate } from './rate.js'
import { LocalCounters } from './local-counters.js'
import { RedisCounters } from './redis-counters.js'

export type LimitHook = (req: FastifyRequest, reply: FastifyReply) => Promise<void>

/** Decorated as `app.limits` (decorations.ts); each is empty when its limit is off (0). */
export interface RateLimitHooks {
  /** POST /v1/uploads, as a preHandler: after authentication and validation, keyed by the body's ownerId. */
  tickets: LimitHook[]
  /** The browser endpoints, as an onRequest hook: before the body is read, keyed by the client address. */
  browser: LimitHook[]
}

/** IPv6 clients usually hold a whole /64: it counts as one address (as Mastodon does). */
const IPV6_PREFIX = 64

export default fp(async (app) => {
  const { rateLimits: limits, serviceTokens } = app.config
  const refused = new Counter({
    name: 'rate_limited_total',
    help: 'Requests refused with 429 RATE_LIMITED, by limit (tickets, browser)',
    labelNames: ['limit'] as const,
    registers: [app.metrics.registry]
  })
  let counters: RedisCounters | undefined
  if (limits.redisUrl !== undefined && (limits.tickets !== null || limits.browser !== null)) {
    counters = new RedisCounters(limits.redisUrl, limits.redisKeyPrefix, app.log.child({ component: 'rate-limits' }), app.metrics.registry)
    const opened = counters
    await opened.open()
    app.addHook('onClose', async () => { await opened.close() })
  }
  await app.register(rateLimit, {
    global: false,
    enableDraftSpec: true,
    skipOnError: true,
    store: counters !== undefined ? counters.store() : LocalCounters
  })

  interface Limit {
    name: 'tickets' | 'browser'
    variable: string
    rate: Rate | null
    /** What is counted, for the refusal's message: "upload tickets per 30 minutes per owner". */
    counted: (window: string) => string
    key: (req: FastifyRequest) => string
    exempt?: (req: FastifyRequest) => boolean
  }
  const limiter = ({ name, variable, rate, counted, key, exempt }: Limit): LimitHook[] => {
    if (rate === null) return []
    const detail = `at most ${rate.max} ${counted(rate.window)} (${variable})`
    return [app.rateLimit({
      max: rate.max,
      timeWindow: rate.windowMs,
      keyGenerator: (req) => `${name}:${key(req)}`,
      ...(exempt !== undefined ? { allowList: (req) => exempt(req) } : {}),
      errorResponseBuilder: () => appError('RATE_LIMITED', detail),
      onExceeded: () => refused.inc({ limit: name })
    }) as LimitHook]
  }

  // The main backend may call completion too: with its token it is not a browser, and is not limited per address.
  const hasToken = tokenMatcher(serviceTokens)
  const isBackend = (req: FastifyRequest) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')
    return match !== null && hasToken(match[1] ?? '')
  }
  // Behind a proxy, without TRUST_PROXY, every client would share the proxy's bucket: said once, when first seen.
  let proxyNoticed = app.config.server.trustProxy !== false
  const clientAddress = (req: FastifyRequest) => {
    if (!proxyNoticed && req.headers['x-forwarded-for'] !== undefined) {
      proxyNoticed = true
      app.log.warn({ address: req.ip }, 'a browser request came with X-Forwarded-For, but TRUST_PROXY is unset, so it counts against its connection\'s address; ' +
        'behind a proxy or load balancer that address is the proxy\'s, shared by every client behind it: set TRUST_PROXY (docs/limits.md)')
    }
    return normalizeIP(req.ip, IPV6_PREFIX)
  }
  app.decorate('limits', {
    tickets: limiter({
      name: 'tickets',
      variable: 'TICKET_RATE_LIMIT',
      rate: limits.tickets,
      counted: (window) => `upload tickets per ${window} per owner`,
      key: (req) => (req.body as { ownerId: string }).ownerId
    }),
    browser: limiter({
      name: 'browser',
      variable: 'BROWSER_RATE_LIMIT',
      rate: limits.browser,
      counted: (window) => `requests per ${window} per client address on the browser endpoints`,
      key: clientAddress,
      ...(serviceTokens.length > 0 ? { exempt: isBackend } : {})
    })
  } satisfies RateLimitHooks)
}, { name: 'rate-limits', fastify: '5.x' })
