// Operations: liveness, readiness (storage and database reachable and writable), Prometheus metrics, the OpenAPI
// document.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { servedBy } from '../openapi.js'
import { requestOrigin } from '../plugins/request-origin.js'
import { Health, Readiness } from './schemas.js'

const READY_TIMEOUT_MS = 3000
/**
 * A write check's answer is reused this long: /ready is probed often (load balancers, orchestrators), and those
 * checks write to the disk. The others only ask, and follow an outage at once.
 */
const READY_CACHE_MS = 1000

type Outcome = 'ok' | 'failed'

async function probe (check: () => Promise<void>): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([check(), new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS) })])
    return 'ok'
  } catch {
    return 'failed'
  } finally { clearTimeout(timer) }
}

/** One probe at a time; its outcome is kept for READY_CACHE_MS after it came. */
function cached (check: () => Promise<void>): () => Promise<Outcome> {
  let last: { outcome: Promise<Outcome>, at?: number } | undefined
  return async () => {
    if (last === undefined || (last.at !== undefined && Date.now() - last.at >= READY_CACHE_MS)) {
      const entry: { outcome: Promise<Outcome>, at?: number } = { outcome: probe(check).then((outcome) => { entry.at = Date.now(); return outcome }) }
      last = entry
    }
    return await last.outcome
  }
}

const opsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health', {
    logLevel: 'warn',
    schema: { operationId: 'health', tags: ['operations'], summary: 'Liveness', response: { 200: Health } }
  }, async () => ({ status: 'ok' as const }))

  // What the service needs to work: each by name, so a 503 says which failed. A backend that does not write
  // uploads itself (S3) has no storage write check: S3 answers for its own disks.
  const { objects, records } = app
  const writes = objects.checkWrites?.bind(objects)
  const checks = Object.entries({
    storage: async () => await probe(() => objects.check()),
    ...(writes !== undefined ? { storageWrites: cached(writes) } : {}),
    database: async () => await probe(() => records.ping()),
    databaseWrites: cached(() => records.checkWrites())
  })

  app.get('/ready', {
    logLevel: 'warn',
    schema: {
      operationId: 'ready',
      tags: ['operations'],
      summary: 'Readiness: storage and database reachable and writable',
      description: 'Each check by name: `storage` and `database` reachable; `databaseWrites`: the store takes writes (SQLite: its folder ' +
        'has room and is writable; PostgreSQL: not read-only); `storageWrites` (development): the uploads folder has room for one ' +
        'upload of MAX_UPLOAD_BYTES and is writable. 503 when any failed, or while the service is closing. The write checks\' answers are reused for a second.',
      response: { 200: Readiness, 503: { ...Readiness, examples: [{ status: 'unavailable', checks: { storage: 'ok', storageWrites: 'failed', database: 'ok', databaseWrites: 'failed' } }] } }
    }
  }, async (_req, reply) => {
    const outcomes = await Promise.all(checks.map(async ([name, run]) => [name, await run()] as const))
    const ok = outcomes.every(([, outcome]) => outcome === 'ok') && !app.closing
    return await reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: Object.fromEntries(outcomes) })
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
