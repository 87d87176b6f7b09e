// Cold start: from spawning `node` to GET /ready answering 200, for the service (development mode, defaults,
// a fresh data folder each time; plain `node dist/server.js`, as `npm start` and the image start it) vs a bare
// Fastify app with a /ready route. Runs alternate; medians compared.
import { join } from 'node:path'
import { baseline, SERVICE_ENTRY, startServer } from '../processes.js'
import { median, type Row } from '../stats.js'
import type { BenchContext } from './context.js'

const RUNS = 7

export async function coldStartSection (ctx: BenchContext): Promise<Row[]> {
  const service: number[] = []
  const bare: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const dir = join(ctx.work, 'cold', String(i))
    const s = await startServer('service (development)', SERVICE_ENTRY, { ENVIRONMENT: 'development', DATA_DIR: join(dir, 'data'), UPLOADS_DIR: join(dir, 'uploads') }, { readyPath: '/ready', logFile: join(ctx.work, 'cold-service.log') })
    await s.stop()
    const b = await startServer('bare Fastify', baseline('bare-ready.mjs'), {}, { readyPath: '/ready', logFile: join(ctx.work, 'cold-bare.log') })
    await b.stop()
    service.push(s.startMs)
    bare.push(b.startMs)
  }
  ctx.progress(`cold start: service ${service.map((x) => x.toFixed(0)).join(' ')} ms; bare ${bare.map((x) => x.toFixed(0)).join(' ')} ms`)
  const s = median(service)
  const b = median(bare)
  // Reported as time: the ratio is service ÷ bare (lower is better), shown for comparison, no target.
  return [{ id: 'coldStart', label: 'cold start: spawn → /ready 200 (lower is better)', unit: 'ms', service: s, baseline: b, ratio: s / b, rounds: service.map((x, i) => ({ service: x, bare: bare[i] })) }]
}
