// Loader for completion + webhook (a separate process): runs the webhook receiver (node:http), prepares uploaded
// tickets (not timed), then completes them and waits for every signed webhook, in two phases: `count` with
// `concurrency` in flight (throughput: first completion sent → last webhook received), then `latencyCount` one
// after another with 2 in flight (latency without a backlog). Prints both.
import { Agent, createServer } from 'node:http'
import sharp from 'sharp'
import { Webhook } from 'standardwebhooks'
import { percentile } from '../stats.js'
import { createTickets, pool, postForm } from './multipart.js'

interface Args { base: string, token: string, count: number, latencyCount: number, warmup: number, concurrency: number, receiverPort: number, secret: string }
const args = JSON.parse(process.argv[2] ?? '{}') as Args

const verifier = new Webhook(args.secret)
const received = new Map<string, number>()
let duplicates = 0
let badSignatures = 0
let onReceipt = () => {}
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const at = performance.now()
    const body = Buffer.concat(chunks).toString('utf8')
    try {
      const event = verifier.verify(body, req.headers as Record<string, string>) as { data: { uploadId: string } }
      if (received.has(event.data.uploadId)) duplicates++
      else received.set(event.data.uploadId, at)
    } catch { badSignatures++ }
    res.writeHead(204).end()
    onReceipt()
  })
})
await new Promise<void>((resolve) => receiver.listen(args.receiverPort, '127.0.0.1', resolve))

// A real (small) PNG: completion decodes and re-encodes what was posted, and refuses bytes that are not an image.
const file = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 120, b: 60 } } }).png().toBuffer()
const tickets = await createTickets(args.base, args.token, args.warmup + args.count + args.latencyCount, file.length)
const agent = new Agent({ keepAlive: true, maxSockets: 20 })
await pool(tickets.length, 20, async (i) => {
  const res = await postForm(agent, tickets[i]!, file)
  if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${res.body}`)
})

async function complete (ids: string[], concurrency: number) {
  const sent = new Map<string, number>()
  const answered = new Map<string, number>()
  const started = performance.now()
  await pool(ids.length, concurrency, async (i) => {
    const id = ids[i]!
    sent.set(id, performance.now())
    const res = await fetch(`${args.base}/v1/uploads/${id}/complete`, { method: 'POST' })
    await res.arrayBuffer()
    answered.set(id, performance.now())
    if (res.status !== 200) throw new Error(`complete answered ${res.status}`)
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${ids.filter((id) => !received.has(id)).length} webhooks missing after 60 s`)), 60_000)
    onReceipt = () => { if (ids.every((id) => received.has(id))) { clearTimeout(timer); resolve() } }
    onReceipt()
  })
  const last = Math.max(...ids.map((id) => received.get(id)!))
  return {
    confirmationsPerSecond: ids.length / ((last - started) / 1000),
    // From the completion's answer to the webhook's receipt (0 when the webhook came first).
    answerToReceipt: ids.map((id) => Math.max(0, received.get(id)! - answered.get(id)!)),
    // From sending the completion to the webhook's receipt: what the main backend waits, end to end.
    sendToReceipt: ids.map((id) => received.get(id)! - sent.get(id)!)
  }
}

const ids = tickets.map((t) => t.uploadId)
await complete(ids.slice(0, args.warmup), args.concurrency)
const busy = await complete(ids.slice(args.warmup, args.warmup + args.count), args.concurrency)
const light = await complete(ids.slice(args.warmup + args.count), 2)
agent.destroy()
receiver.close()
const latencies = (r: typeof busy) => ({
  answerToReceiptP50: percentile(r.answerToReceipt, 50),
  answerToReceiptP99: percentile(r.answerToReceipt, 99),
  sendToReceiptP50: percentile(r.sendToReceipt, 50),
  sendToReceiptP99: percentile(r.sendToReceipt, 99)
})
process.stdout.write(JSON.stringify({
  confirmations: args.count,
  confirmationsPerSecond: busy.confirmationsPerSecond,
  busy: latencies(busy),
  light: latencies(light),
  duplicates,
  badSignatures
}) + '\n')
