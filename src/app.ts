// buildApp(config): the whole service as a Fastify instance. Process concerns (listen, signals) live in main.ts;
// tests build this, never the server.
import cors from '@fastify/cors'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from 'fastify'
import { randomUUID } from 'node:crypto'
import type { Config } from './config.js'
import './decorations.js'
import { installBodyParsers } from './plugins/body-parsers.js'
import { errorHandler, notFoundHandler } from './plugins/error-handler.js'
import { RouteMethods } from './plugins/route-methods.js'
import { serviceAuth } from './plugins/service-auth.js'
import { accessLineWriter } from './fast/access-line.js'
import { lazyChildLogger } from './fast/lazy-request-logger.js'
import { OneLinePerRequest, type LogStream } from './logger.js'
import { createMetrics } from './metrics.js'
import completeRoute from './routes/complete.js'
import demoRoutes from './routes/demo.js'
import opsRoutes from './routes/ops.js'
import { Confirmed, ErrorSchema, Upload, UploadTicket, Variant } from './routes/schemas.js'
import uploadRoutes from './routes/uploads.js'
import eventRoutes from './routes/events.js'
import { ImageConfirmedEvent, ImageDeletedEvent, WebhookEvent } from './routes/webhook-schemas.js'
import { createObjectBackend, type ObjectBackend } from './objects/index.js'
import { createRecordStore } from './records/index.js'
import { Pruner } from './records/pruner.js'
import type { RecordStore } from './records/record-store.js'
import { UploadService } from './uploads/service.js'
import { Dispatcher, type DispatcherOptions } from './webhooks/dispatcher.js'
import { Sweeper } from './uploads/sweeper.js'
import { openapiDocument, servedBy } from './openapi.js'
import { requestOrigin } from './plugins/request-origin.js'
import { enableDecoders } from './images/decoders.js'
import { formatOfType, type ImageFormat } from './uploads/formats.js'
import rateLimits from './limits/rate-limits.js'
import { capConnections, REQUEST_TIMEOUT_MS, serverOptions } from './limits/server-caps.js'

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>

export interface BuildOptions {
  logger?: FastifyServerOptions['logger']
  /**
   * The logger's own stream, when the logger is built by loggerOptions() (main.ts): access lines are then written
   * to it directly (fast/access-line.ts), in the format those options give pino.
   */
  accessLog?: LogStream
  /** Injected by tests (a fault-injecting wrapper); otherwise built from the config. */
  records?: RecordStore
  objects?: ObjectBackend
  /** Tests: shorter poll and shutdown-drain times. */
  webhooks?: DispatcherOptions
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/

export async function buildApp (config: Config, opts: BuildOptions = {}): Promise<App> {
  const opened: Array<{ close: () => Promise<void> }> = []
  try {
    return await assemble(config, opts, opened)
  } catch (err) {
    // A build that fails closes what it opened: the SQLite file is opened exclusively, and a next attempt in this
    // process would wait for it, then fail.
    for (const resource of opened.reverse()) await resource.close().catch(() => {})
    throw err
  }
}

/** The app; each store it opens itself goes into `opened` (closed if the build fails, by onClose otherwise). */
async function assemble (config: Config, opts: BuildOptions, opened: Array<{ close: () => Promise<void> }>): Promise<App> {
  const app = Fastify({
    logger: opts.logger ?? false,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    requestIdHeader: false,
    bodyLimit: 64 * 1024,
    // Slow clients cannot hold sockets forever.
    requestTimeout: REQUEST_TIMEOUT_MS,
    // Idle and header timeouts; which proxies give req.ip, the address browser rate limits count by (docs/limits.md).
    ...serverOptions(config.server),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    // A URL that does not decode: the catalogue's answer, not Fastify's own.
    frameworkErrors: errorHandler,
    logController: new OneLinePerRequest(opts.accessLog !== undefined && opts.logger !== undefined && opts.logger !== false ? accessLineWriter(opts.accessLog) : undefined),
    ...(opts.logger !== undefined && opts.logger !== false ? { childLoggerFactory: lazyChildLogger } : {})
  }).withTypeProvider<TypeBoxTypeProvider>()

  enableDecoders(config.upload.allowedContentTypes.map((t) => formatOfType(t) as ImageFormat))
  const metrics = createMetrics(opts.accessLog?.failures)
  const records = opts.records ?? await createRecordStore(config, app.log)
  if (opts.records === undefined) opened.push(records)
  const backend = opts.objects ?? await createObjectBackend(config)
  const { objects } = backend
  if (opts.objects === undefined) opened.push(objects)
  app.decorate('config', config)
  app.decorate('metrics', metrics)
  capConnections(app.server, config.server, metrics.registry)
  app.decorate('records', records)
  app.decorate('objects', objects)
  const uploads = new UploadService(config, objects, records, metrics)
  const dispatcher = new Dispatcher(config, records, uploads, metrics, app.log.child({ component: 'webhooks' }), opts.webhooks)
  const sweeper = new Sweeper(config, records, objects, uploads, metrics, app.log.child({ component: 'sweeper' }))
  const pruner = new Pruner(config, records, metrics, app.log.child({ component: 'pruner' }))
  // A committed confirmation (or deletion) starts its delivery at once instead of at the next poll.
  uploads.onEvent = () => dispatcher.nudge()
  app.decorate('uploads', uploads)
  app.decorate('dispatcher', dispatcher)
  app.decorate('sweeper', sweeper)
  app.decorate('pruner', pruner)
  app.decorate('closing', false)
  app.addHook('preClose', async () => { app.closing = true })
  app.addHook('onReady', async () => {
    await dispatcher.start()
    sweeper.start()
    pruner.start()
  })
  // Before the records close: no new claims, sweeps or prunes; deliveries in flight finish or go back to the queue.
  app.addHook('preClose', async () => { await Promise.all([sweeper.stop(), pruner.stop(), dispatcher.stop()]) })
  app.addHook('onClose', async () => {
    await objects.close()
    await records.close()
  })

  // Callback hooks: no promise per request on the hot path.
  app.addHook('onRequest', (req, reply, done) => { reply.header('x-request-id', req.id); done() })
  app.addHook('onResponse', (req, reply, done) => {
    metrics.requests.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: reply.statusCode }, reply.elapsedTime / 1000)
    done()
  })
  installBodyParsers(app)
  app.setErrorHandler(errorHandler)
  // Before any route is added: a known path asked with another method answers 405 with Allow.
  const routes = new RouteMethods()
  app.addHook('onRoute', (route) => { routes.add(route.method, route.url) })
  app.setNotFoundHandler(notFoundHandler(routes))

  for (const schema of [ErrorSchema, UploadTicket, Variant, Confirmed, Upload, WebhookEvent, ImageConfirmedEvent, ImageDeletedEvent]) app.addSchema(schema)
  await app.register(swagger, openapiDocument(config))
  await app.register(swaggerUi, { routePrefix: '/docs', transformSpecification: (spec, req) => servedBy(spec, requestOrigin(req)) })
  await app.register(opsRoutes)
  await app.register(rateLimits)

  // Internal scope: service tokens.
  await app.register(async (internal) => {
    internal.addHook('onRequest', serviceAuth(config, app.log))
    await internal.register(uploadRoutes)
    await internal.register(eventRoutes)
  })

  // Browser scope: CORS for the configured origins only.
  await app.register(async (browser) => {
    await browser.register(cors, {
      origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
      methods: ['POST', 'GET'],
      maxAge: 600,
      // Pages may read when to retry (rate limits, BUSY).
      exposedHeaders: ['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'],
      hideOptionsRoute: true
    })
    await browser.register(completeRoute)
    if (backend.browserRoutes !== undefined) await browser.register(backend.browserRoutes)
    if (config.demo) await browser.register(demoRoutes)
  })

  if (backend.publicRoutes !== undefined) await app.register(backend.publicRoutes)
  return app
}
