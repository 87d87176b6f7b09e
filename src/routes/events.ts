// Internal webhook outbox routes (service token required): list events by status, re-drive a dead one.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { appError } from '../errors.js'
import type { OutboxEvent } from '../records/record-store.js'
import { Bearer, errors } from './schemas.js'
import { EventList, EventListQuery, EventParams, eventNotFound } from './webhook-schemas.js'

const view = (e: OutboxEvent) => ({
  id: e.id,
  uploadId: e.uploadId,
  type: e.type,
  status: e.status,
  attempts: e.attempts,
  nextAttemptAt: e.nextAttemptAt.toISOString(),
  lastError: e.lastError,
  createdAt: e.createdAt.toISOString(),
  deliveredAt: e.deliveredAt?.toISOString() ?? null
})

const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/v1/webhooks/events', {
    schema: {
      operationId: 'listWebhookEvents',
      tags: ['webhooks'],
      summary: 'List webhook events by status',
      description: 'Dead events (every attempt failed) stay here until re-driven, or for RETENTION_DAYS (an image.confirmed of an upload still confirmed stays until re-driven); delivered ones for RETENTION_DAYS. A DELETE of a confirmed upload removes its image.confirmed not yet delivered (pending or dead) and queues image.deleted. Oldest first.',
      security: Bearer,
      querystring: EventListQuery,
      response: { 200: EventList, ...errors(400, 401) }
    }
  }, async (req) => {
    const events = await app.records.listEvents(req.query.status ?? 'dead', Number(req.query.limit ?? 100))
    return { events: events.map(view) }
  })

  app.post('/v1/webhooks/events/:eventId/redrive', {
    schema: {
      operationId: 'redriveWebhookEvent',
      tags: ['webhooks'],
      summary: 'Send a dead webhook event again',
      description: 'dead → pending with its attempts reset; delivery starts at once, with the same webhook-id.',
      security: Bearer,
      params: EventParams,
      response: { 200: Type.Ref('WebhookEvent'), ...errors(400, 401), 404: eventNotFound }
    }
  }, async (req) => {
    const { eventId } = req.params
    if (!await app.records.redriveEvent(eventId, new Date())) throw appError('EVENT_NOT_FOUND', `eventId "${eventId}"`)
    const event = await app.records.getEvent(eventId)
    if (event === undefined) throw appError('EVENT_NOT_FOUND', `eventId "${eventId}"`)
    app.dispatcher.nudge()
    return view(event)
  })
}
export default eventRoutes
