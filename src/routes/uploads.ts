// Internal upload routes (service token required): create a ticket, read, delete.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Bearer, CreateUploadBody, errors, UploadParams } from './schemas.js'

const uploadRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/v1/uploads', {
    // TICKET_RATE_LIMIT per owner: after authentication and validation, so the body's ownerId is the key.
    preHandler: app.limits.tickets,
    schema: {
      operationId: 'createUpload',
      tags: ['uploads'],
      summary: 'Issue an upload ticket',
      description: 'Returns the form (url + fields) a browser posts the image with: an S3 presigned POST in production, the service\'s own upload endpoint in development. At most TICKET_RATE_LIMIT tickets per ownerId (default 30 per 30 minutes, shared by every replica with REDIS_URL); the RateLimit-* headers say what is left.',
      security: Bearer,
      body: CreateUploadBody,
      response: { 201: Type.Ref('UploadTicket'), ...errors(400, 401, 413, 415, 429) }
    }
  }, async (req, reply) => {
    const ticket = await app.uploads.create(req.body)
    // Built by the service from known fields only, so nothing needs the schema serializer's filtering, which costs
    // more than JSON.stringify here (docs/performance.md, "Speed tricks").
    return reply.code(201).type('application/json; charset=utf-8').send(JSON.stringify(ticket))
  })

  app.get('/v1/uploads/:uploadId', {
    schema: {
      operationId: 'getUpload',
      tags: ['uploads'],
      summary: 'Read an upload\'s status',
      security: Bearer,
      params: UploadParams,
      response: { 200: Type.Ref('Upload'), ...errors(400, 401, 404) }
    }
  }, async (req) => await app.uploads.get(req.params.uploadId))

  app.delete('/v1/uploads/:uploadId', {
    schema: {
      operationId: 'deleteUpload',
      tags: ['uploads'],
      summary: 'Delete an upload and its stored image',
      security: Bearer,
      params: UploadParams,
      response: { 204: Type.Null({ description: 'deleted (also when it already was)' }), ...errors(400, 401, 404) }
    }
  }, async (req, reply) => {
    await app.uploads.delete(req.params.uploadId)
    return await reply.code(204).send(null)
  })
}
export default uploadRoutes
