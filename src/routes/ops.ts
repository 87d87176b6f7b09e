// Operations: liveness, readiness (storage and database), Prometheus metrics, the OpenAPI document.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { servedBy } from '../openapi.js'
import { requestOrigin } from '../plugins/request-origin.js'
import { Health, Readiness } from './schemas.js'

const READY_TIMEOUT_MS = 3000

async function probe (check: () => Promise<void>): Promise<'ok' | 'failed'> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([check(), new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS) })])
    return 'ok'
  } catch {
    return 'failed'
  } finally { clearTimeout(timer) }
}

const opsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health', {
    logLevel: 'warn',
    schema: { operationId: 'health', tags: ['operations'], summary: 'Liveness', response: { 200: Health } }
  }, async () => ({ status: 'ok' as const }))

  app.get('/ready', {
    logLevel: 'warn',
    schema: { operationId: 'ready', tags: ['operations'], summary: 'Readiness: storage and database reachable', response: { 200: Readiness, 503: { ...Readiness, examples: [{ status: 'unavailable', checks: { storage: 'ok', database: 'failed' } }] } } }
  }, async (_req, reply) => {
    const [storage, database] = await Promise.all([probe(() => app.objects.check()), probe(() => app.records.ping())])
    const ok = storage === 'ok' && database === 'ok' && !app.closing
    return await reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: { storage, database } })
  })

  app.get('/metrics', {
    logLevel: 'warn',
    schema: {
      operationId: 'metrics',
      tags: ['operations'],
      summary: 'Prometheus metrics',
      produces: ['text/plain'],
      response: {
        200: {
          type: 'string',
          description: 'Prometheus text exposition format',
          examples: ['# HELP image_uploads_total Upload lifecycle outcomes (ticket, stored, refused, confirmed, rejected, expired, replaced, deleted)\n# TYPE image_uploads_total counter\nimage_uploads_total{outcome="confirmed"} 42\n']
        }
      }
    }
  }, async (_req, reply) => {
    const counts = await app.records.countEvents()
    for (const [status, n] of Object.entries(counts)) app.metrics.outbox.set({ status }, n)
    return await reply.type(app.metrics.registry.contentType).send(await app.metrics.registry.metrics())
  })

  app.get('/openapi.json', { schema: { hide: true } }, async (req) => servedBy(app.swagger(), requestOrigin(req)))
}
export default opsRoutes
