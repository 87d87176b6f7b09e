// The OpenAPI document's frame; the paths come from the route schemas (@fastify/swagger).
import type { SwaggerOptions } from '@fastify/swagger'
import type { Config } from './config.js'
import { webhooksDocument } from './routes/webhook-schemas.js'

export function openapiDocument (_config: Config): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'image-service',
        version: '1.0.0',
        description: 'Stores profile images: presigned POSTs to S3 in production, the same form to a local folder in development, and a signed image.confirmed webhook.',
        license: { name: 'UNLICENSED', url: 'https://example.com/license' }
      },
      servers: [{ url: 'http://localhost:3000', description: 'development defaults' }],
      tags: [
        { name: 'uploads', description: 'Upload tickets and their completion' },
        { name: 'development', description: 'Development mode only: the local stand-in for S3' },
        { name: 'webhooks', description: 'The confirmation webhook outbox' },
        { name: 'operations', description: 'Health, readiness, metrics' }
      ],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'one of SERVICE_TOKENS' } }
      },
      // OpenAPI 3.0 has no `webhooks` field (3.1 has); Redoc and Redocly read this extension (spread: the types
      // do not list extensions).
      ...{ 'x-webhooks': webhooksDocument }
    },
    refResolver: {
      // Components keep their $id as name (Upload, Confirmed, …) instead of def-0, def-1.
      buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`)
    }
  }
}
