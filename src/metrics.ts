// Prometheus metrics, one registry per app instance (tests build several apps in one process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Upper bounds of the request-duration buckets, in seconds. */
export const REQUEST_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** `logFailures`: the log stream's failed writes so far (logger.ts), read at each scrape. */
export function createMetrics (logFailures: () => number = () => 0) {
  const registry = new Registry()
  let countedLogFailures = 0
  collectDefaultMetrics({ register: registry })
  return {
    registry,
    requests: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: REQUEST_BUCKETS,
      registers: [registry]
    }),
    uploads: new Counter({
      name: 'image_uploads_total',
      help: 'Upload lifecycle outcomes (ticket, stored, refused, confirmed, rejected, expired, replaced, deleted)',
      labelNames: ['outcome'] as const,
      registers: [registry]
    }),
    bytes: new Counter({
      name: 'image_upload_bytes_total',
      help: 'Bytes of confirmed images',
      registers: [registry]
    }),
    webhookDeliveries: new Counter({
      name: 'webhook_deliveries_total',
      help: 'Webhook delivery attempts by result (delivered, failed, dead)',
      labelNames: ['result'] as const,
      registers: [registry]
    }),
    webhookLatency: new Histogram({
      name: 'webhook_delivery_seconds',
      help: 'Time from confirmation to acknowledged delivery',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600],
      registers: [registry]
    }),
    logWriteFailures: new Counter({
      name: 'log_write_failures_total',
      help: 'Log writes that failed (a full disk, a closed pipe): their lines were dropped, and the service went on',
      registers: [registry],
      collect () {
        const now = logFailures()
        if (now > countedLogFailures) this.inc(now - countedLogFailures)
        countedLogFailures = now
      }
    }),
    pruned: new Counter({
      name: 'image_store_pruned_rows_total',
      help: 'Records removed after RETENTION_DAYS, by table (uploads, outbox)',
      labelNames: ['table'] as const,
      registers: [registry]
    }),
    outbox: new Gauge({
      name: 'webhook_outbox_events',
      help: 'Outbox events by status (sampled at scrape)',
      labelNames: ['status'] as const,
      registers: [registry]
    })
  }
}

export type Metrics = ReturnType<typeof createMetrics>
