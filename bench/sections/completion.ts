// Completion + webhook, end to end: the service (development mode, SQLite outbox, the dispatcher with its
// defaults) confirms uploads and delivers image.confirmed to a receiver in the loader process. Throughput at 20
// completions in flight; latency from the completion to the webhook's receipt, under that load and without one.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { freePort, loader, run, SERVICE_ENTRY, startServer } from '../processes.js'
import type { Row } from '../stats.js'
import type { BenchContext } from './context.js'

const CONCURRENCY = 20

interface Latencies { answerToReceiptP50: number, answerToReceiptP99: number, sendToReceiptP50: number, sendToReceiptP99: number }
interface Result { confirmationsPerSecond: number, busy: Latencies, light: Latencies, duplicates: number, badSignatures: number }

export async function completionSection (ctx: BenchContext): Promise<Row[]> {
  const dir = join(ctx.work, 'completion')
  const [port, receiverPort] = [await freePort(), await freePort()]
  const secret = `whsec_${randomBytes(32).toString('base64')}`
  const service = await startServer('service (development)', SERVICE_ENTRY, {
    ...ctx.devEnv,
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: join(dir, 'data'),
    UPLOADS_DIR: join(dir, 'uploads'),
    WEBHOOK_URL: `http://127.0.0.1:${receiverPort}/hooks`,
    WEBHOOK_SECRET: secret
  }, { readyPath: '/ready', logFile: join(ctx.work, 'completion-service.log'), port, nodeArgs: ctx.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(ctx.work, 'profiles')}`] : [] })
  try {
    const r = JSON.parse(await run(['--import', 'tsx', loader('completions.ts'), JSON.stringify({
      base: service.base, token: ctx.token, count: ctx.completionCount, latencyCount: 200, warmup: 100, concurrency: CONCURRENCY, receiverPort, secret
    })])) as Result
    if (r.badSignatures > 0) throw new Error(`${r.badSignatures} webhooks failed signature verification`)
    ctx.progress(`completion: ${r.confirmationsPerSecond.toFixed(0)}/s; answer → webhook p50/p99 ${r.busy.answerToReceiptP50.toFixed(1)}/${r.busy.answerToReceiptP99.toFixed(1)} ms under load, ${r.light.answerToReceiptP50.toFixed(1)}/${r.light.answerToReceiptP99.toFixed(1)} ms without; ${r.duplicates} duplicates`)
    return [
      { id: 'confirmationsPerSecond', label: `completion + webhook received (${CONCURRENCY} in flight)`, unit: '/s', service: r.confirmationsPerSecond, rounds: [r] },
      { id: 'webhookP99Busy', label: `p99 completion answered → webhook received, ${CONCURRENCY} in flight`, unit: 'ms', service: r.busy.answerToReceiptP99 },
      { id: 'webhookP99', label: 'p99 completion answered → webhook received, 2 in flight', unit: 'ms', service: r.light.answerToReceiptP99 },
      { id: 'webhookEndToEndP99', label: 'p99 completion sent → webhook received, 2 in flight', unit: 'ms', service: r.light.sendToReceiptP99 }
    ]
  } finally {
    await service.stop()
  }
}
