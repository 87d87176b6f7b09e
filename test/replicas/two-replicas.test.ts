// Two service processes (node --import tsx src/server.ts) share one PostgreSQL schema, one uploads folder (a shared
// volume) and one webhook receiver. Uploads go through both; every event is delivered exactly once while both run.
// Then one replica is killed (SIGKILL) while its deliveries are held open by the receiver: the other delivers
// those events once their lease lapses, with the same webhook-id.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Webhook } from 'standardwebhooks'
import t, { type Test } from 'tap'
import { scratch, TOKEN } from '../helpers/build.js'
import { postForm } from '../helpers/form.js'
import { png } from '../helpers/images.js'
import { adminQuery, postgresUnavailable, testSchema } from '../helpers/postgres.js'
import { complete, createTicket } from '../helpers/upload-flow.js'
import { eventually } from '../helpers/wait.js'
import { freePort, WEBHOOK_SECRET } from '../helpers/webhook-receiver.js'

const skip = await postgresUnavailable()
const root = fileURLToPath(new URL('../..', import.meta.url))
const CONCURRENCY = 4

interface Replica {
  name: string
  base: string
  child: ChildProcess
  exited: Promise<unknown[]>
  /** Event ids this replica logged as delivered. */
  delivered: string[]
}

async function startReplica (t: Test, name: string, env: Record<string, string>): Promise<Replica> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    // Not the test's own environment: tap's loaders and coverage stay out of the service.
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), PUBLIC_BASE_URL: base, DATA_DIR: scratch(t), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const replica: Replica = { name, base, child, exited: once(child, 'exit'), delivered: [] }
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => { stderr += c.toString() })
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const entry = JSON.parse(line) as { msg?: string, eventId?: string }
    if (entry.msg === 'webhook delivered' && entry.eventId !== undefined) replica.delivered.push(entry.eventId)
  })
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await replica.exited
    }
  })
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`replica ${name} exited (${child.exitCode}): ${stderr}`)
    return (await fetch(`${base}/ready`).then((r) => r.ok, () => false)) || undefined
  }, { timeoutMs: 30_000, intervalMs: 50, what: `replica ${name} to be ready` })
  return replica
}

interface Received { id: string, body: string, headers: Record<string, string> }
interface Held { id: string, res: ServerResponse, lost: boolean }

/** The one webhook receiver: records every request; acknowledges at once, or holds the answers when told to. */
async function startReceiver (t: Test) {
  const received: Received[] = []
  const acked: string[] = []
  const held: Held[] = []
  let holding = false
  const ack = (id: string, res: ServerResponse) => res.writeHead(204).end(() => acked.push(id))
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]))
      const id = headers['webhook-id'] ?? ''
      received.push({ id, body: Buffer.concat(chunks).toString('utf8'), headers })
      if (!holding) { ack(id, res); return }
      const entry: Held = { id, res, lost: false }
      // The sender went away before it got an answer.
      res.on('close', () => { entry.lost = !res.writableFinished })
      held.push(entry)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/images`,
    received,
    acked,
    held,
    hold: () => { holding = true },
    /** Answers every held request whose sender is still there, and every later one at once. */
    release: () => {
      holding = false
      for (const h of held) if (!h.lost) ack(h.id, h.res)
    }
  }
}

/** `count` uploads spread over the replicas: ticket from one, form posted to the other, completion from either. */
async function uploadThrough (replicas: [Replica, Replica], count: number, tag: string): Promise<string[]> {
  const image = png(8, 8)
  const ids: string[] = []
  let next = 0
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < count) {
      const i = next++
      const creator = replicas[i % 2]!
      const poster = replicas[(i + 1) % 2]!
      const completer = replicas[Math.floor(i / 2) % 2]!
      const ticket = await createTicket(creator.base, `owner-${tag}-${i}`)
      const form = { ...ticket.upload, url: ticket.upload.url.replace(creator.base, poster.base) }
      const posted = await postForm(form, image, 'image/png')
      if (posted.status !== 201) throw new Error(`form post to ${poster.name}: ${posted.status} ${await posted.text()}`)
      const done = await complete(completer.base, ticket.uploadId)
      if (done.status !== 200) throw new Error(`complete on ${completer.name}: ${done.status} ${await done.text()}`)
      ids.push(ticket.uploadId)
    }
  }))
  return ids
}

const countOf = (ids: string[]) => ids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<string, number>())

t.test('two replicas on one PostgreSQL: every event once; a killed replica\'s deliveries are finished by the other', { skip }, async (t) => {
  const { schema, url } = await testSchema(t)
  const receiver = await startReceiver(t)
  const env = {
    ENVIRONMENT: 'development',
    DATABASE_URL: url,
    DATABASE_POOL_MAX: '5',
    // Development mode shares its images through one folder (a shared volume); the policy secret is shared too.
    UPLOADS_DIR: scratch(t),
    UPLOAD_SIGNING_SECRET: randomBytes(24).toString('base64url'),
    SERVICE_TOKENS: TOKEN,
    SWEEP_INTERVAL_SECONDS: '0',
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET,
    WEBHOOK_CONCURRENCY: String(CONCURRENCY),
    // The lease is 2 × timeout + 1 s = 7 s: the time a dead replica's claims stay blocked.
    WEBHOOK_TIMEOUT_MS: '3000',
    WEBHOOK_BACKOFF_BASE_MS: '50',
    WEBHOOK_BACKOFF_MAX_MS: '500',
    WEBHOOK_MAX_ATTEMPTS: '1000',
    // 224 uploads from one address: the browser limit (120 a minute) would refuse most (test/limits/ tests it).
    TICKET_RATE_LIMIT: '0',
    BROWSER_RATE_LIMIT: '0'
  }
  // Both start (and migrate) at once.
  const [a, b] = await Promise.all([startReplica(t, 'a', env), startReplica(t, 'b', env)])
  const verifier = new Webhook(WEBHOOK_SECRET)

  t.test('200 uploads through both replicas: every event delivered, none twice', async (t) => {
    const uploadIds = await uploadThrough([a, b], 200, 'p1')
    await eventually(() => receiver.acked.length >= 200 || undefined, { timeoutMs: 30_000, what: '200 acknowledged deliveries' })
    const ids = receiver.received.map((r) => r.id)
    t.equal(ids.length, 200, 'exactly 200 requests reached the receiver')
    t.equal(new Set(ids).size, 200, 'no webhook-id was sent twice')
    const data = receiver.received.map((r) => (verifier.verify(r.body, r.headers) as { data: { uploadId: string } }).data.uploadId)
    t.same(data.sort(), [...uploadIds].sort(), 'one signed image.confirmed per upload')

    await eventually(() => a.delivered.length + b.delivered.length >= 200 || undefined, { what: 'both replicas to record their deliveries' })
    t.ok(a.delivered.length > 0 && b.delivered.length > 0, `both replicas delivered (a: ${a.delivered.length}, b: ${b.delivered.length})`)
    t.same([...a.delivered, ...b.delivered].sort(), [...ids].sort(), 'each event recorded as delivered by exactly one replica')
    const counts = await adminQuery<{ status: string, n: number }>(`SELECT status, count(*)::int AS n FROM ${schema}.outbox GROUP BY status`)
    t.same(counts, [{ status: 'delivered', n: 200 }])
  })

  t.test('replica a is killed mid-delivery: b delivers a\'s events once their lease lapses', async (t) => {
    receiver.hold()
    const before = receiver.received.length
    const uploadIds = await uploadThrough([a, b], 24, 'p2')
    // Each replica has at most CONCURRENCY deliveries in flight: 2 × CONCURRENCY held means both are full.
    await eventually(() => receiver.held.length >= 2 * CONCURRENCY || undefined, { what: 'both replicas to have deliveries in flight' })
    a.child.kill('SIGKILL')
    await a.exited
    const lost = await eventually(() => {
      const gone = receiver.held.filter((h) => h.lost)
      return gone.length >= CONCURRENCY ? gone.map((h) => h.id) : undefined
    }, { what: 'the killed replica\'s connections to close' })
    t.equal(lost.length, CONCURRENCY, 'the killed replica had its deliveries in flight')
    receiver.release()

    const phase2 = await eventually(() => {
      const ids = new Set(receiver.received.slice(before).map((r) => r.id))
      const done = [...ids].every((id) => receiver.acked.includes(id))
      return ids.size === uploadIds.length && done ? [...ids] : undefined
    }, { timeoutMs: 30_000, what: 'every event of the second batch acknowledged' })
    t.equal(phase2.length, 24)

    const acked = countOf(receiver.acked)
    t.equal(acked.size, 224, 'every event of the test was acknowledged')
    t.ok([...acked.values()].every((n) => n === 1), 'no event was acknowledged twice')
    const sent = countOf(receiver.received.slice(before).map((r) => r.id))
    for (const id of lost) t.equal(sent.get(id), 2, `${id}: sent by a (no answer), then again by b with the same webhook-id`)
    t.equal([...sent.values()].filter((n) => n === 1).length, 24 - CONCURRENCY, 'every other event was sent once')
    await eventually(() => lost.every((id) => b.delivered.includes(id)) || undefined, { what: 'b to record a\'s events as delivered' })
    t.same(lost.filter((id) => b.delivered.includes(id)), lost, 'b recorded the killed replica\'s leftovers as delivered')
    const counts = await adminQuery<{ status: string, n: number }>(`SELECT status, count(*)::int AS n FROM ${schema}.outbox GROUP BY status`)
    t.same(counts, [{ status: 'delivered', n: 224 }], 'nothing left in the outbox')

    b.child.kill('SIGTERM')
    const [code] = await b.exited
    t.equal(code, 0, 'the surviving replica closes gracefully')
  })
})
