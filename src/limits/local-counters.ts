// Rate-limit counters in the process (no REDIS_URL): the same fixed windows aligned to the clock as in Redis
// (redis-counters.ts), so a limit means the same with and without it. Counts are numbers in maps (key → count), not
// objects: the plugin's own store keeps two objects per key alive for the whole window, and with a key per owner
// their garbage collection cost more than the counting (docs/performance.md, "Rate limits"). The number of keys is
// bounded by two generations of maps: counts go to the recent one; once it holds half of LOCAL_KEYS it becomes the
// older one and the older is dropped, so a key not counted while LOCAL_KEYS / 2 others were is forgotten (its count
// starts again). No per-request eviction, no iterator.
import type { FastifyRateLimitStore } from '@fastify/rate-limit'

/** Keys per limiter at most; a key is kept at least while this many / 2 other keys are counted. */
export const LOCAL_KEYS = 100_000

type Done = (err: Error | null, result?: { current: number, ttl: number }) => void

export class LocalCounters implements FastifyRateLimitStore {
  private window = -1
  private recent = new Map<string, number>()
  private older = new Map<string, number>()

  incr (key: string, done: Done, windowMs: number): void {
    const now = Date.now()
    const window = Math.floor(now / windowMs)
    if (window !== this.window) {
      this.window = window
      this.recent = new Map()
      this.older = new Map()
    }
    let current = this.recent.get(key)
    if (current === undefined) {
      current = this.older.get(key) ?? 0
      if (this.recent.size >= LOCAL_KEYS / 2) {
        this.older = this.recent
        this.recent = new Map()
      }
    }
    this.recent.set(key, ++current)
    done(null, { current, ttl: (window + 1) * windowMs - now })
  }

  /** Each limiter (one per `app.rateLimit()`) counts in maps of its own. */
  child (): FastifyRateLimitStore { return new LocalCounters() }
}
