// Schemas of the webhook outbox routes and of the webhooks themselves (image.confirmed, image.deleted) (documented as `x-webhooks`: the
// document is OpenAPI 3.0, whose own `webhooks` field only exists from 3.1).
import { Type } from '@sinclair/typebox'
import { errorRef, imageFields } from './schemas.js'

const EventId = Type.String({ pattern: '^msg_[A-Za-z0-9_-]{22}$', description: 'event id, sent as the webhook-id header on every attempt', examples: ['msg_2Vb8kQz4Lm0PxR7tYc3NwA'] })
const Time = Type.String({ format: 'date-time' })
const NullableTime = Type.Union([Time, Type.Null()])

export const EventParams = Type.Object({ eventId: EventId }, { additionalProperties: false })

export const EventListQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('dead'), Type.Literal('pending'), Type.Literal('delivered')], { default: 'dead', description: 'which events to list (default dead)' })),
  limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]{0,2}|1000)$', default: '100', description: 'at most this many, oldest first (1–1000, default 100)', examples: ['50'] }))
}, { additionalProperties: false })

export const WebhookEvent = Type.Object({
  id: EventId,
  uploadId: Type.String({ examples: ['upl_19ac9d2e4b09Jx2vQm8Rk3LpT5wYz1AbC'] }),
  type: Type.String({ description: 'image.confirmed or image.deleted', examples: ['image.confirmed'] }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]),
  attempts: Type.Integer({ minimum: 0, description: 'delivery attempts made (reset by a re-drive)' }),
  nextAttemptAt: Type.String({ format: 'date-time', description: 'when a pending event is tried next' }),
  lastError: Type.Union([Type.String(), Type.Null()], { description: 'why the last attempt failed (HTTP status or network error)' }),
  createdAt: Time,
  deliveredAt: NullableTime
}, {
  $id: 'WebhookEvent',
  examples: [{ id: 'msg_2Vb8kQz4Lm0PxR7tYc3NwA', uploadId: 'upl_19ac9d2e4b09Jx2vQm8Rk3LpT5wYz1AbC', type: 'image.confirmed', status: 'dead', attempts: 12, nextAttemptAt: '2026-11-28T09:08:10.000Z', lastError: 'HTTP 503', createdAt: '2026-11-28T08:00:05.000Z', deliveredAt: null }]
})

export const EventList = Type.Object({ events: Type.Array(Type.Ref('WebhookEvent')) }, {
  examples: [{ events: [{ id: 'msg_2Vb8kQz4Lm0PxR7tYc3NwA', uploadId: 'upl_19ac9d2e4b09Jx2vQm8Rk3LpT5wYz1AbC', type: 'image.confirmed', status: 'dead', attempts: 12, nextAttemptAt: '2026-11-28T09:08:10.000Z', lastError: 'HTTP 503', createdAt: '2026-11-28T08:00:05.000Z', deliveredAt: null }] }]
})

export const eventNotFound = errorRef('no dead event with this id (unknown, or not dead)')

/** The body POSTed to WEBHOOK_URL. */
export const ImageConfirmedEvent = Type.Object({
  type: Type.Literal('image.confirmed'),
  timestamp: Type.String({ format: 'date-time', description: 'when the upload was confirmed (not an order between images: see data.createdAt)' }),
  data: Type.Object({
    uploadId: Type.String(),
    ownerId: Type.String(),
    key: Type.String(),
    url: Type.String({ format: 'uri', description: 'the public URL of the image' }),
    contentType: Type.String(),
    size: Type.Integer({ description: 'bytes of the published main image' }),
    ...imageFields,
    createdAt: Type.String({ format: 'date-time', description: 'when the upload\'s ticket was issued: of two images of one owner, the one of the later ticket is the current one, whichever was confirmed (or arrives) first' })
  })
}, {
  $id: 'ImageConfirmedEvent',
  examples: [{
    type: 'image.confirmed',
    timestamp: '2026-11-28T08:00:05.000Z',
    data: { uploadId: 'upl_19ac9d2e4b09Jx2vQm8Rk3LpT5wYz1AbC', ownerId: 'user-42', key: 'profile-images/3f6c0c1e9b2a4d7f8e5a6b7c8d9e0f1a.png', url: 'https://my-bucket.s3.ap-southeast-1.amazonaws.com/profile-images/3f6c0c1e9b2a4d7f8e5a6b7c8d9e0f1a.png', contentType: 'image/png', size: 48213, width: 1024, height: 768, animated: false, placeholder: 'H/gBBYBgym5ox6hFlIbLpqqgmq+3', variants: [{ size: 64, width: 64, height: 64, contentType: 'image/webp', url: 'https://my-bucket.s3.ap-southeast-1.amazonaws.com/profile-images/3f6c0c1e9b2a4d7f8e5a6b7c8d9e0f1a-64.webp' }], createdAt: '2026-11-28T08:00:00.000Z' }
  }]
})

/** The body POSTed to WEBHOOK_URL after a DELETE of a confirmed upload. */
export const ImageDeletedEvent = Type.Object({
  type: Type.Literal('image.deleted'),
  timestamp: Type.String({ format: 'date-time', description: 'when the upload was deleted' }),
  data: Type.Object({
    uploadId: Type.String(),
    ownerId: Type.String(),
    key: Type.String(),
    url: Type.String({ format: 'uri', description: 'the public URL the image had: it no longer answers' })
  })
}, {
  $id: 'ImageDeletedEvent',
  examples: [{
    type: 'image.deleted',
    timestamp: '2026-11-28T09:30:00.000Z',
    data: { uploadId: 'upl_19ac9d2e4b09Jx2vQm8Rk3LpT5wYz1AbC', ownerId: 'user-42', key: 'profile-images/3f6c0c1e9b2a4d7f8e5a6b7c8d9e0f1a.png', url: 'https://my-bucket.s3.ap-southeast-1.amazonaws.com/profile-images/3f6c0c1e9b2a4d7f8e5a6b7c8d9e0f1a.png' }
  }]
})

const header = (description: string, example: string) => ({ required: true, schema: { type: 'string' }, description, example })

const DELIVERY = 'Standard Webhooks (standardwebhooks.com). Verify the signature over the raw body, e.g. with the `standardwebhooks` npm package. Delivery is at-least-once: the same event arrives with the same `webhook-id` on every attempt, so deduplicate by it. Any 2xx acknowledges; anything else (or no answer within WEBHOOK_TIMEOUT_MS) is retried with exponential backoff.'

const webhookParameters = [
  { in: 'header', name: 'webhook-id', ...header('the event id: stable across attempts (idempotency key)', 'msg_2Vb8kQz4Lm0PxR7tYc3NwA') },
  { in: 'header', name: 'webhook-timestamp', ...header('unix seconds of this attempt; reject values far from now (replays)', '1795852805') },
  { in: 'header', name: 'webhook-signature', ...header('space-separated `v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`, one per WEBHOOK_SECRET (rotation)', 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=') }
]

/** The `x-webhooks` section of openapi.yaml: what the service POSTs to WEBHOOK_URL. */
export const webhooksDocument = {
  'image.confirmed': {
    post: {
      operationId: 'imageConfirmedWebhook',
      tags: ['webhooks'],
      summary: 'An upload was confirmed (sent to WEBHOOK_URL)',
      description: `${DELIVERY} An owner's current image is the one of the most recently issued ticket (data.createdAt), whatever the order of confirmation or delivery: an older ticket confirmed later (by the sweeper, after its tab closed) never replaces a newer image.`,
      security: [],
      parameters: webhookParameters,
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ImageConfirmedEvent' } } } },
      responses: {
        '2XX': { description: 'acknowledged: the event is delivered, and the owner\'s images of older tickets are then deleted (replaced); an image whose newer ticket\'s image was already delivered is deleted itself' },
        default: { description: 'not acknowledged: retried later' }
      }
    }
  },
  'image.deleted': {
    post: {
      operationId: 'imageDeletedWebhook',
      tags: ['webhooks'],
      summary: 'A confirmed upload was deleted with DELETE /v1/uploads/{uploadId} (sent to WEBHOOK_URL)',
      description: `${DELIVERY} An image.confirmed of the upload that was not delivered before the DELETE is never delivered; one already on its way may still arrive, before or after this event.`,
      security: [],
      parameters: webhookParameters,
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ImageDeletedEvent' } } } },
      responses: {
        '2XX': { description: 'acknowledged: the event is delivered' },
        default: { description: 'not acknowledged: retried later' }
      }
    }
  }
}
