// Delivers the outbox. Due events are claimed with a lease (a crashed process's claims lapse and are retried), each
// is POSTed outside any transaction, and the result is recorded afterwards: at-least-once, the same webhook-id on
// every attempt. Confirmations nudge it so delivery starts at once; a poll picks up retries and other replicas' work.
import type { FastifyBaseLogger } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Pool } from 'undici'
import type { Config } from '../config.js'
import type { Metrics } from '../metrics.js'
import type { OutboxEvent, RecordStore } from '../records/record-store.js'
import type { UploadService } from '../uploads/service.js'
import { signer, type Signer } from './sign.js'

export interface DispatcherOptions {
  /** How often due events (retries, other replicas' leftovers) are looked for. */
  pollMs?: number
  /** How long stop() waits for deliveries in flight before it aborts them and gives them back to the queue. */
  drainMs?: number
}

/** Larger response bodies are not read: the connection is dropped instead. */
const DUMP_LIMIT = 64 * 1024

/** Full jitter: a random delay in [0, min(max, base·2^(attempt-1))), so failing receivers are not hit in lockstep. */
export function retryDelay (attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1)))
}

export class Dispatcher {
  private readonly webhook: Config['webhook']
  private readonly sign: Signer
  private readonly pollMs: number
  private readonly drainMs: number
  /** A claim outlives one attempt (timeout) and the bookkeeping after it, so a live claim is never taken twice. */
  private readonly leaseMs: number
  private pool: Pool | undefined
  private path = '/'
  private timer: NodeJS.Timeout | undefined
  private running = false
  /** Counts stop() calls: a start() still loading undici when stop() comes does not start after it. */
  private stops = 0
  /** Set when stop() gave up waiting: aborted deliveries give their event back instead of counting a failure. */
  private abandoning = false
  private claiming: Promise<void> | undefined
  private claimAgain = false
  private readonly inFlight = new Map<string, { done: Promise<void>, abort: AbortController }>()

  constructor (
    config: Config,
    private readonly store: RecordStore,
    private readonly uploads: Pick<UploadService, 'replaceOlder'>,
    private readonly metrics: Metrics,
    private readonly log: FastifyBaseLogger,
    options: DispatcherOptions = {}
  ) {
    this.webhook = config.webhook
    this.sign = signer(config.webhook.secrets)
    this.pollMs = options.pollMs ?? Math.min(1000, Math.max(25, config.webhook.backoffBaseMs))
    // Docker and Compose kill a container 10 s after SIGTERM: what is not done by then must already be released
    // (not left leased until its lease lapses), with time left for the rest of the shutdown.
    this.drainMs = options.drainMs ?? Math.min(config.webhook.timeoutMs, 5_000)
    this.leaseMs = config.webhook.timeoutMs * 2 + 1000
  }

  /** Starts delivering, beginning with whatever is pending or was left claimed by a previous (crashed) process. */
  async start (): Promise<void> {
    if (this.running) return
    if (this.webhook.url === undefined) {
      this.log.warn('WEBHOOK_URL is unset: image.confirmed events are kept pending and sent once it is set')
      return
    }
    const url = new URL(this.webhook.url)
    // Loaded only when there is somewhere to deliver: a development start without WEBHOOK_URL is quicker (docs/performance.md).
    const stops = this.stops
    const { Pool } = await import('undici')
    if (this.running || this.stops !== stops) return
    this.path = `${url.pathname}${url.search}`
    const { timeoutMs, concurrency } = this.webhook
    this.pool = new Pool(url.origin, { connections: concurrency, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } })
    this.running = true
    this.abandoning = false
    this.timer = setInterval(() => this.nudge(), this.pollMs).unref()
    this.nudge()
  }

  /** Looks for due events now (after a confirmation commits, or a slot frees up). */
  nudge (): void {
    if (!this.running) return
    if (this.claiming !== undefined) { this.claimAgain = true; return }
    this.claiming = this.claim().finally(() => { this.claiming = undefined })
  }

  /** Stops claiming, lets deliveries in flight finish for up to drainMs, then aborts the rest and releases them. */
  async stop (): Promise<void> {
    this.stops++
    if (!this.running) return
    this.running = false
    clearInterval(this.timer)
    // This start's pool: deliveries keep using it while they drain, and a start() during the drain makes its own,
    // which this must not close.
    const pool = this.pool
    await this.claiming
    const pending = () => Promise.allSettled([...this.inFlight.values()].map((d) => d.done))
    if (this.inFlight.size > 0) {
      const waiter = new AbortController()
      await Promise.race([pending(), sleep(this.drainMs, undefined, { signal: waiter.signal }).catch(() => {})])
      waiter.abort()
    }
    if (this.inFlight.size > 0) {
      this.abandoning = true
      this.log.warn({ events: this.inFlight.size }, 'webhook deliveries still in flight at shutdown: returning them to the queue')
      for (const d of this.inFlight.values()) d.abort.abort()
      await pending()
    }
    if (this.pool === pool) this.pool = undefined
    await pool?.close()
  }

  private async claim (): Promise<void> {
    do {
      this.claimAgain = false
      const free = this.webhook.concurrency - this.inFlight.size
      if (free <= 0) return
      let events: OutboxEvent[]
      try {
        events = await this.store.claimEvents(new Date(), free, this.leaseMs)
      } catch (err) {
        this.log.error({ err }, 'claiming webhook events failed; retrying at the next poll')
        return
      }
      for (const event of events) {
        const abort = new AbortController()
        const done = this.deliver(event, abort.signal).finally(() => {
          this.inFlight.delete(event.id)
          this.nudge()
        })
        this.inFlight.set(event.id, { done, abort })
      }
    } while (this.claimAgain && this.running)
  }

  private async deliver (event: OutboxEvent, abort: AbortSignal): Promise<void> {
    const attempt = event.attempts + 1
    const log = this.log.child({ eventId: event.id, attempt })
    const claim = this.keepClaim(event, log)
    try {
      await this.attempt(event, attempt, abort, log)
    } finally {
      claim.stop()
    }
  }

  /**
   * Renews the event's lease every third of it while the delivery runs, so a slow receiver plus a slow replacement
   * never let it lapse and another replica send the event again. A renewal that finds the claim lost only logs:
   * the delivery goes on (at-least-once), and its result is recorded as before.
   */
  private keepClaim (event: OutboxEvent, log: FastifyBaseLogger): { stop: () => void } {
    let held = event.leaseUntil
    let renewing = false
    let stopped = false
    const timer = setInterval(() => {
      if (held === null || renewing) return
      renewing = true
      const until = new Date(Date.now() + this.leaseMs)
      this.store.renewLease(event.id, held, until).then((kept) => {
        if (kept) held = until
        // (After stop() the delivery was recorded, which ends the claim: nothing to report.)
        else if (!stopped) {
          held = null
          log.warn('the claim on this webhook event lapsed before its delivery ended; another replica may send it too')
        }
      }, (err: unknown) => { log.warn({ err }, 'renewing the claim on a webhook event failed; retrying') })
        .finally(() => { renewing = false })
    }, Math.max(1, Math.floor(this.leaseMs / 3))).unref()
    return { stop: () => { stopped = true; clearInterval(timer) } }
  }

  private async attempt (event: OutboxEvent, attempt: number, abort: AbortSignal, log: FastifyBaseLogger): Promise<void> {
    let failure = await this.send(event, abort)
    if (failure === undefined && event.type === 'image.confirmed') {
      // Replacement only after the receiver acknowledged the new image, and before the delivery is recorded: a
      // crash or a failed delete re-sends the event (at-least-once allows it) rather than leaving the old image.
      failure = await this.uploads.replaceOlder(event.uploadId).then(() => undefined, (err: unknown) => {
        log.error({ err }, 'replacing older images failed; the event will be sent again')
        return 'acknowledged, but replacing older images failed'
      })
    }
    try {
      if (failure === undefined) {
        await this.store.markDelivered(event.id, new Date())
        this.metrics.webhookDeliveries.inc({ result: 'delivered' })
        this.metrics.webhookLatency.observe((Date.now() - event.createdAt.getTime()) / 1000)
        log.info('webhook delivered')
      } else if (this.abandoning && abort.aborted) {
        await this.store.releaseEvent(event.id)
      } else {
        const dead = attempt >= this.webhook.maxAttempts
        const next = new Date(Date.now() + retryDelay(attempt, this.webhook.backoffBaseMs, this.webhook.backoffMaxMs))
        await this.store.markFailed(event.id, failure, next, dead)
        this.metrics.webhookDeliveries.inc({ result: dead ? 'dead' : 'failed' })
        if (dead) log.error({ error: failure }, 'webhook delivery failed for the last time: the event is dead (re-drive it with POST /v1/webhooks/events/{eventId}/redrive)')
        else log.warn({ error: failure, nextAttemptAt: next.toISOString() }, 'webhook delivery failed; will retry')
      }
    } catch (err) {
      // The lease lapses and the event is tried again.
      log.error({ err }, 'recording a webhook delivery failed')
    }
  }

  /** One attempt: undefined when the receiver answered 2xx, else why not. */
  private async send (event: OutboxEvent, abort: AbortSignal): Promise<string | undefined> {
    const pool = this.pool
    if (pool === undefined) return 'the dispatcher is stopped'
    const signal = AbortSignal.any([abort, AbortSignal.timeout(this.webhook.timeoutMs)])
    try {
      const res = await pool.request({
        method: 'POST',
        path: this.path,
        headers: { 'content-type': 'application/json', 'user-agent': 'image-service-webhooks', ...this.sign(event.id, new Date(), event.payload) },
        body: event.payload,
        signal
      })
      // Always consume the body so the connection can be reused (or is closed when the body is too large).
      await res.body.dump({ limit: DUMP_LIMIT, signal }).catch(() => {})
      return res.statusCode >= 200 && res.statusCode < 300 ? undefined : `HTTP ${res.statusCode}`
    } catch (err) {
      if (signal.aborted && !abort.aborted) return `no answer within ${this.webhook.timeoutMs} ms`
      return err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err)
    }
  }
}
