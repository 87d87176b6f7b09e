// Completion: called by the browser (CORS) or the main backend; the unguessable uploadId is the credential.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors, UploadParams } from './schemas.js'

const completeRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/v1/uploads/:uploadId/complete', {
    // BROWSER_RATE_LIMIT per client address (not for the main backend with its token).
    onRequest: app.limits.browser,
    schema: {
      operationId: 'completeUpload',
      tags: ['uploads'],
      summary: 'Confirm an upload once the browser has posted the form',
      description: 'Checks that the object exists, its size, and that it really is an image of the declared type within MAX_IMAGE_PIXELS and MAX_IMAGE_FRAMES; publishes a clean copy (re-encoded, oriented, sRGB, no metadata, fitted into IMAGE_MAX_SIDE) with its square variants and placeholder; then confirms it and queues the image.confirmed webhook. Idempotent. Browsers count against BROWSER_RATE_LIMIT per client address (default 120 per minute, with the development upload); a request with a service token does not.',
      params: UploadParams,
      response: { 200: Type.Ref('Confirmed'), ...errors(400, 404, 409, 410, 415, 422, 429, 503) }
    }
  }, async (req) => await app.uploads.complete(req.params.uploadId))
}
export default completeRoute
