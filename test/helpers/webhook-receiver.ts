// A real webhook receiver on a TCP port (0: any free one). Every request is recorded; the test decides each answer.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { eventually } from './wait.js'

export const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`

/** Environment for an app that sends webhooks to `url` and retries quickly. */
export const webhookEnv = (url: string, extra: Record<string, string> = {}) => ({
  WEBHOOK_URL: url,
  WEBHOOK_SECRET,
  WEBHOOK_BACKOFF_BASE_MS: '10',
  WEBHOOK_BACKOFF_MAX_MS: '40',
  ...extra
})

export interface Delivery {
  id: string
  timestamp: string
  signature: string
  /** Every header, for verification with the standardwebhooks package. */
  headers: Record<string, string>
  body: string
}

/** The status to answer with; may wait (to hold the answer). `n` counts deliveries from 0. */
export type Answer = (delivery: Delivery, n: number) => number | Promise<number>

export interface Receiver {
  url: string
  port: number
  deliveries: Delivery[]
  answer: Answer
  /** Waits until `count` deliveries match `filter`. */
  waitFor (count: number, filter?: (d: Delivery) => boolean, timeoutMs?: number): Promise<Delivery[]>
}

export async function startReceiver (t: Test, options: { port?: number, answer?: Answer } = {}): Promise<Receiver> {
  const deliveries: Delivery[] = []
  const receiver: Receiver = {
    url: '',
    port: 0,
    deliveries,
    answer: options.answer ?? (() => 204),
    waitFor: async (count, filter = () => true, timeoutMs = 15_000) =>
      await eventually(() => {
        const found = deliveries.filter(filter)
        return found.length >= count ? found : undefined
      }, { timeoutMs, what: `${count} webhook deliveries` })
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]))
      const delivery: Delivery = {
        id: headers['webhook-id'] ?? '',
        timestamp: headers['webhook-timestamp'] ?? '',
        signature: headers['webhook-signature'] ?? '',
        headers,
        body: Buffer.concat(chunks).toString('utf8')
      }
      const n = deliveries.push(delivery) - 1
      Promise.resolve(receiver.answer(delivery, n)).then((status) => { res.writeHead(status).end('ok') }, () => { res.destroy() })
    })
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve))
  receiver.port = (server.address() as AddressInfo).port
  receiver.url = `http://127.0.0.1:${receiver.port}/hooks/images?source=test`
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return receiver
}

/** A port nothing listens on (yet): reserved, then freed. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}
