// Ticket issuing: POST /v1/uploads in production mode, as the image runs it (S3 presigned POST signed locally, the SQLite write
// included) vs a bare Fastify POST route answering a static body of the real ticket's size, 50 connections,
// autocannon in its own process. The service runs three ways: without rate limits (the route itself), with
// TICKET_RATE_LIMIT at its default counted in the process, and counted in Redis (REDIS_URL; BENCH_REDIS_URL, default
// the local Redis, under a key prefix of the run's own, deleted afterwards). Every ticket has its own owner, so the
// limit is counted but never reached. Rounds rotate the order; each ratio is the median of per-round ratios.
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { baseline, freePort, ROOT, run, SERVICE_ENTRY, startServer, type Server } from '../processes.js'
import { median, ratioRow, type Row } from '../stats.js'
import type { BenchContext } from './context.js'

const CONNECTIONS = 50
// -I replaces [<id>] per request: every ticket has its own owner, as in real use.
const BODY = '{"ownerId":"user-[<id>]","contentType":"image/png","contentLength":48213}'
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'

interface CannonResult { '2xx': number, non2xx: number, errors: number, timeouts: number, duration: number, latency: { p99: number } }

async function cannon (ctx: BenchContext, server: Server, url: string, seconds: number): Promise<{ rps: number, p99: number, cpuUs: number }> {
  const cpu = server.cpuMs()
  const out = await run([join(ROOT, 'node_modules', 'autocannon', 'autocannon.js'),
    '-c', String(CONNECTIONS), '-d', String(seconds), '-m', 'POST', '-I', '-j',
    '-H', 'content-type=application/json', '-H', `authorization=Bearer ${ctx.token}`, '-b', BODY, url])
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as CannonResult
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) throw new Error(`${url}: ${r.non2xx} non-2xx answers, ${r.errors} errors, ${r.timeouts} timeouts`)
  return { rps: r['2xx'] / r.duration, p99: r.latency.p99, cpuUs: (server.cpuMs() - cpu) * 1000 / r['2xx'] }
}

/** A Redis the bench may write to, or undefined (the Redis row is then left out). */
async function benchRedis (): Promise<Redis | undefined> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.ping()
    return redis
  } catch {
    redis.disconnect()
    return undefined
  }
}

/** Deletes the run's rate-limit keys (one per ticket, each with a 30-minute expiry) from the shared Redis. */
async function deleteKeys (redis: Redis, prefix: string): Promise<number> {
  let deleted = 0
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 10_000)
    cursor = next
    if (keys.length > 0) deleted += await redis.unlink(...keys)
  } while (cursor !== '0')
  return deleted
}

type Variant = 'service' | 'limited' | 'redis'

export async function ticketsSection (ctx: BenchContext): Promise<Row[]> {
  const dir = join(ctx.work, 'tickets')
  const production = {
    ENVIRONMENT: 'production',
    LOG_LEVEL: 'info',
    SERVICE_TOKENS: ctx.token,
    SWEEP_INTERVAL_SECONDS: '0',
    AWS_S3_BUCKET: 'bench-bucket',
    AWS_REGION: 'ap-southeast-1',
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    // Nothing listens there: issuing a ticket never calls S3.
    AWS_S3_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
    AWS_S3_FORCE_PATH_STYLE: 'true',
    S3_SELF_CHECK: 'false'
  }
  const redis = await benchRedis()
  if (redis === undefined) ctx.progress(`tickets: no Redis at ${REDIS_URL} (BENCH_REDIS_URL): the Redis row is left out`)
  const prefix = `image-service-bench:${randomUUID()}:`
  const env: Record<Variant, Record<string, string> | undefined> = {
    service: { ...production, TICKET_RATE_LIMIT: '0' },
    // The default TICKET_RATE_LIMIT (30/30m), counted in the process.
    limited: production,
    redis: redis === undefined ? undefined : { ...production, REDIS_URL, REDIS_KEY_PREFIX: prefix }
  }
  const servers: Partial<Record<Variant, Server>> = {}
  let bare: Server | undefined
  try {
    for (const variant of ['service', 'limited', 'redis'] as const) {
      const variantEnv = env[variant]
      if (variantEnv === undefined) continue
      servers[variant] = await startServer(`service (production, ${variant})`, SERVICE_ENTRY, { ...variantEnv, DATA_DIR: join(dir, variant, 'data') }, {
        readyPath: '/health',
        logFile: join(ctx.work, `tickets-${variant}.log`),
        nodeArgs: ctx.profile && variant === 'service' ? ['--cpu-prof', `--cpu-prof-dir=${join(ctx.work, 'profiles')}`] : []
      })
    }
    const service = servers.service as Server
    const sample = await fetch(`${service.base}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/json' },
      body: BODY.replace('[<id>]', '1')
    })
    const ticket = await sample.text()
    if (sample.status !== 201) throw new Error(`POST /v1/uploads answered ${sample.status}: ${ticket}`)
    const ticketBytes = Buffer.byteLength(ticket)
    bare = await startServer('bare JSON route', baseline('bare-json.mjs'), { BENCH_BODY: ticket }, { readyPath: '/ready', logFile: join(ctx.work, 'tickets-bare.log') })
    const targets: Array<[Variant | 'bare', Server]> = [['bare', bare], ...Object.entries(servers) as Array<[Variant, Server]>]
    const load = async (server: Server, seconds: number) => await cannon(ctx, server, `${server.base}/v1/uploads`, seconds)
    // Warm-up: the JITs, the SQLite files and their WALs (and Redis) reach their steady state before anything counts.
    for (const [, server] of targets) await load(server, 3)
    type Figures = Awaited<ReturnType<typeof load>>
    const rounds: Array<Record<string, Figures>> = []
    for (let r = 0; r < ctx.rounds; r++) {
      const round: Record<string, Figures> = {}
      // Rotated, so no variant always runs right after the same one.
      for (let i = 0; i < targets.length; i++) {
        const [name, server] = targets[(i + r) % targets.length] as [string, Server]
        round[name] = await load(server, ctx.seconds)
      }
      rounds.push(round)
      const line = targets.map(([name]) => `${name} ${round[name]!.rps.toFixed(0)} req/s (${round[name]!.cpuUs.toFixed(0)} µs CPU each)`).join(', ')
      ctx.progress(`tickets round ${r + 1}: ${line} (ticket ${ticketBytes} B)`)
    }
    const against = (variant: Variant) => rounds.map((x) => ({
      service: x[variant]!.rps,
      bare: x.bare!.rps,
      ratio: x[variant]!.rps / x.bare!.rps,
      serviceP99: x[variant]!.p99,
      bareP99: x.bare!.p99,
      serviceCpuUs: x[variant]!.cpuUs,
      bareCpuUs: x.bare!.cpuUs,
      ticketBytes
    }))
    const plain = against('service')
    const rows: Row[] = [
      ratioRow('tickets', `POST /v1/uploads, production (${CONNECTIONS} connections)`, 'req/s', 0.5, plain),
      { id: 'ticketCpu', label: 'CPU per request, all threads (lower is better)', unit: 'µs', service: median(plain.map((x) => x.serviceCpuUs)), baseline: median(plain.map((x) => x.bareCpuUs)) },
      ratioRow('ticketsRateLimited', '  with TICKET_RATE_LIMIT (default), counted in the process', 'req/s', 0.45, against('limited'))
    ]
    if (servers.redis !== undefined) rows.push(ratioRow('ticketsRedis', '  with TICKET_RATE_LIMIT (default), counted in Redis', 'req/s', 0.45, against('redis')))
    return rows
  } finally {
    await Promise.all([...Object.values(servers).map(async (s) => await s.stop()), bare?.stop()])
    if (redis !== undefined) {
      const deleted = await deleteKeys(redis, prefix).catch(() => 0)
      ctx.progress(`tickets: deleted the run's ${deleted} rate-limit keys from Redis`)
      redis.disconnect()
    }
  }
}
