// Rate-limit counters in Redis (REDIS_URL), shared by every replica. Windows are fixed and aligned to the clock
// (window n of a limit runs from n × its length), so a count is one INCR of the key of this window, whose reset is
// known without asking, and replicas never race; the count that opens a key sets its expiry (its window's end, the
// same for every replica). The counts of one turn of the event loop go as one call (redis-batch.ts).
// Failing open: while Redis cannot be reached (or does not answer within COMMAND_TIMEOUT_MS) requests are not
// counted and go on; a warning is logged once per outage, each request let through uncounted is counted in
// /metrics, and /ready is unaffected (rate limiting is not worth an outage).
import type { FastifyBaseLogger } from 'fastify'
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import { Redis } from 'ioredis'
import { Counter, Gauge, type Registry } from 'prom-client'
import { RedisBatch } from './redis-batch.js'

/** A request waits at most this long for its count; a slower Redis is treated as down. */
const COMMAND_TIMEOUT_MS = 500
const CONNECT_TIMEOUT_MS = 2000

/** A window's key outlives its end by this much: a replica whose clock is behind Redis's still finds it. */
const EXPIRY_SLACK_MS = 30_000

type Done = (err: Error | null, result?: { current: number, ttl: number }) => void

export class RedisCounters {
  private readonly redis: Redis
  private readonly batch: RedisBatch
  private readonly prefix: string
  private down = false
  private closing = false
  private readonly uncounted: Counter
  private readonly up: Gauge

  constructor (url: string, prefix: string, private readonly log: FastifyBaseLogger, registry: Registry) {
    this.prefix = `${prefix}rate:`
    this.uncounted = new Counter({
      name: 'rate_limit_redis_failures_total',
      help: 'Requests let through without being counted because Redis (REDIS_URL) could not be reached',
      registers: [registry]
    })
    this.up = new Gauge({ name: 'rate_limit_redis_up', help: 'Whether Redis (REDIS_URL) answered the last count (1) or not (0)', registers: [registry] })
    this.redis = new Redis(url, {
      lazyConnect: true,
      // Never queue a count for later: a request that cannot be counted now goes on uncounted.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Reconnect forever, at most every 2 s.
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000)
    })
    this.batch = new RedisBatch(this.redis)
    this.redis.on('ready', () => this.reachable())
    this.redis.on('error', (err: Error) => this.unreachable(err))
    this.redis.on('close', () => this.unreachable(new Error('connection closed')))
  }

  /** Connects; when Redis cannot be reached the service starts anyway (and keeps trying). */
  async open (): Promise<void> {
    await this.redis.connect().catch((err: unknown) => this.unreachable(err as Error))
  }

  async close (): Promise<void> {
    this.closing = true
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect())
    else this.redis.disconnect()
  }

  /** @fastify/rate-limit's store: every limiter shares the connection; keys carry the limiter's name. */
  store (): FastifyRateLimitStoreCtor {
    const counters = this
    return class implements FastifyRateLimitStore {
      incr (key: string, done: Done, timeWindow: number): void { counters.increment(key, timeWindow, done) }
      child (): FastifyRateLimitStore { return this }
    }
  }

  private increment (key: string, windowMs: number, done: Done): void {
    const now = Date.now()
    const window = Math.floor(now / windowMs)
    const end = (window + 1) * windowMs
    this.batch.increment(`${this.prefix}${key}:${window}`, end + EXPIRY_SLACK_MS, (err, current) => {
      if (err !== null) {
        this.uncounted.inc()
        this.unreachable(err)
        // With skipOnError the request goes on, uncounted.
        done(err)
        return
      }
      this.reachable()
      done(null, { current: current as number, ttl: end - now })
    })
  }

  private reachable (): void {
    this.up.set(1)
    if (!this.down) return
    this.down = false
    this.log.info('Redis (REDIS_URL) is reachable again: rate limits are counted again')
  }

  private unreachable (err: Error): void {
    if (this.closing) return
    this.up.set(0)
    if (this.down) return
    this.down = true
    this.log.warn({ reason: err.message }, 'Redis (REDIS_URL) is unreachable: rate limits are not counted until it is back; requests go on')
  }
}
