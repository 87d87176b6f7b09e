// What the app decorates its instance with, declared once: routes see `fastify.uploads` and the rest through this
// declaration, not by importing app.ts.
import type { Config } from './config.js'
import type { RateLimitHooks } from './limits/rate-limits.js'
import type { Metrics } from './metrics.js'
import type { ObjectStore } from './objects/object-store.js'
import type { Pruner } from './records/pruner.js'
import type { RecordStore } from './records/record-store.js'
import type { Dispatcher } from './webhooks/dispatcher.js'
import type { Sweeper } from './uploads/sweeper.js'
import type { UploadService } from './uploads/service.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    /** Rows: upload records and the webhook outbox (SQLite or PostgreSQL). */
    records: RecordStore
    /** Files: staged uploads and published images (the local folder or S3). */
    objects: ObjectStore
    uploads: UploadService
    dispatcher: Dispatcher
    sweeper: Sweeper
    /** Removes records older than RETENTION_DAYS. */
    pruner: Pruner
    metrics: Metrics
    /** Rate-limit hooks for the routes (limits/rate-limits.ts); a limit that is off (0) is an empty list. */
    limits: RateLimitHooks
    /** True once close() began: readiness answers 503 so load balancers stop sending work. */
    closing: boolean
  }
}
