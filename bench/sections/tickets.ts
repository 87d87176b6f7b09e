// Ticket issuing: POST /v1/uploads in production mode, as the image runs it (S3 presigned POST signed locally, the SQLite write
// included) vs a bare Fastify POST route answering a static body of the real ticket's size, 50 connections,
// autocannon in its own process. Rounds alternate; the ratio is the median of per-round ratios.
import { join } from 'node:path'
import { baseline, freePort, ROOT, run, SERVICE_ENTRY, startServer, type Server } from '../processes.js'
import { median, ratioRow, type Row } from '../stats.js'
import type { BenchContext } from './context.js'

const CONNECTIONS = 50
// -I replaces [<id>] per request: every ticket has its own owner, as in real use.
const BODY = '{"ownerId":"user-[<id>]","contentType":"image/png","contentLength":48213}'

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

export async function ticketsSection (ctx: BenchContext): Promise<Row[]> {
  const dir = join(ctx.work, 'tickets')
  const service = await startServer('service (production)', SERVICE_ENTRY, {
    ENVIRONMENT: 'production',
    LOG_LEVEL: 'info',
    SERVICE_TOKENS: ctx.token,
    SWEEP_INTERVAL_SECONDS: '0',
    DATA_DIR: join(dir, 'data'),
    AWS_S3_BUCKET: 'bench-bucket',
    AWS_REGION: 'ap-southeast-1',
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    // Nothing listens there: issuing a ticket never calls S3.
    AWS_S3_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
    AWS_S3_FORCE_PATH_STYLE: 'true',
    S3_SELF_CHECK: 'false'
  }, { readyPath: '/health', logFile: join(ctx.work, 'tickets-service.log'), nodeArgs: ctx.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(ctx.work, 'profiles')}`] : [] })
  let bare: Server | undefined
  try {
    const sample = await fetch(`${service.base}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/json' },
      body: BODY.replace('[<id>]', '1')
    })
    const ticket = await sample.text()
    if (sample.status !== 201) throw new Error(`POST /v1/uploads answered ${sample.status}: ${ticket}`)
    const ticketBytes = Buffer.byteLength(ticket)
    bare = await startServer('bare JSON route', baseline('bare-json.mjs'), { BENCH_BODY: ticket }, { readyPath: '/ready', logFile: join(ctx.work, 'tickets-bare.log') })
    const targets = { service: { server: service, url: `${service.base}/v1/uploads` }, bare: { server: bare, url: `${bare.base}/v1/uploads` } }
    const load = async (target: 'service' | 'bare', seconds: number) => await cannon(ctx, targets[target].server, targets[target].url, seconds)
    // Warm-up: both JITs, the SQLite file and the WAL reach their steady state before anything counts.
    await load('bare', 3)
    await load('service', 3)
    const rounds: Array<{ service: number, bare: number, ratio: number, serviceP99: number, bareP99: number, serviceCpuUs: number, bareCpuUs: number }> = []
    for (let r = 0; r < ctx.rounds; r++) {
      const first = r % 2 === 0 ? 'bare' : 'service'
      const a = await load(first, ctx.seconds)
      const b = await load(first === 'bare' ? 'service' : 'bare', ctx.seconds)
      const [s, m] = first === 'bare' ? [b, a] : [a, b]
      rounds.push({ service: s.rps, bare: m.rps, ratio: s.rps / m.rps, serviceP99: s.p99, bareP99: m.p99, serviceCpuUs: s.cpuUs, bareCpuUs: m.cpuUs })
      ctx.progress(`tickets round ${r + 1}: service ${s.rps.toFixed(0)} req/s (${s.cpuUs.toFixed(0)} µs CPU each), bare ${m.rps.toFixed(0)} req/s (${m.cpuUs.toFixed(0)} µs) (ticket ${ticketBytes} B)`)
    }
    const cpu = { label: 'CPU per request, all threads (lower is better)', unit: 'µs', service: median(rounds.map((x) => x.serviceCpuUs)), baseline: median(rounds.map((x) => x.bareCpuUs)) }
    return [
      ratioRow('tickets', `POST /v1/uploads, production (${CONNECTIONS} connections)`, 'req/s', 0.5, rounds, rounds.map((x) => ({ ...x, ticketBytes }))),
      { id: 'ticketCpu', ...cpu }
    ]
  } finally {
    await Promise.all([service.stop(), bare?.stop()])
  }
}
