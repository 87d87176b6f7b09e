// Completion: called by the browser (CORS) or the main backend; the unguessable uploadId is the credential.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors, UploadParams } from './schemas.js'

const completeRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/v1/uploads/:uploadId/complete', {
    schema: {
      operationId: 'completeUpload',
      tags: ['uploads'],
      summary: 'Confirm an upload once the browser has posted the form',
      description: 'Checks that the object exists, its size, and that it really is an image of the declared type within MAX_IMAGE_PIXELS and MAX_IMAGE_FRAMES; publishes a clean copy (re-encoded, oriented, sRGB, no metadata, fitted into IMAGE_MAX_SIDE) with its square variants and placeholder; then confirms it and queues the image.confirmed webhook. Idempotent.',
      params: UploadParams,
      response: { 200: Type.Ref('Confirmed'), ...errors(400, 404, 409, 410, 422, 503) }
    }
  }, async (req) => await app.uploads.complete(req.params.uploadId))
}
export default completeRoute
