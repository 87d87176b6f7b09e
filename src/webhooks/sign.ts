// Standard Webhooks signatures (standardwebhooks.com): v1 = base64 HMAC-SHA256 of "{id}.{timestamp}.{body}", keyed
// with the base64-decoded part of a `whsec_` secret. Every configured secret signs (space-separated), so a receiver
// can move to a new secret while the old one is still accepted.
import { createHmac } from 'node:crypto'

export interface WebhookHeaders {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

export type Signer = (id: string, at: Date, body: string) => WebhookHeaders

const secretKey = (secret: string) => Buffer.from(secret.replace(/^whsec_/, ''), 'base64')

/** Decodes the secrets once; the returned function signs one attempt (its own timestamp, the event's stable id). */
export function signer (secrets: readonly string[]): Signer {
  const keys = secrets.map(secretKey)
  return (id, at, body) => {
    const timestamp = String(Math.floor(at.getTime() / 1000))
    const signatures = keys.map((key) => `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`)
    return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signatures.join(' ') }
  }
}
