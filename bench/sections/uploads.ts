// Development uploads: 5 MiB PNG-looking files, 20 concurrent, through the full form flow (fields checked
// against the signed policy, file streamed to disk, linked into place) vs a bare @fastify/multipart route
// streaming to disk. Rounds alternate; the ratio is the median of per-round ratios. Also the service's peak RSS
// (VmHWM), started as `npm start` and the image start it: plain `node dist/server.js`, no flags.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { baseline, freePort, loader, run, SERVICE_ENTRY, startServer, type Server } from '../processes.js'
import { ratioRow, type Row } from '../stats.js'
import type { BenchContext } from './context.js'

const SIZE = 5 * 1024 * 1024
const CONCURRENCY = 20
const MB = 1024 * 1024

export async function uploadsSection (ctx: BenchContext): Promise<Row[]> {
  const dir = join(ctx.work, 'uploads')
  const bareDir = join(dir, 'bare')
  mkdirSync(bareDir, { recursive: true })
  const startService = async (name: string) => {
    const port = await freePort()
    return await startServer(name, SERVICE_ENTRY, {
      ...ctx.devEnv,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: join(dir, name, 'data'),
      UPLOADS_DIR: join(dir, name, 'uploads')
    }, { readyPath: '/ready', logFile: join(ctx.work, `uploads-${name}.log`), port })
  }
  // The bare route gets a real ticket's fields, so both parse the same form.
  const fieldsOf = async (service: Server) => {
    const res = await fetch(`${service.base}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ownerId: 'bench', contentType: 'image/png', contentLength: SIZE })
    })
    return (await res.json() as { upload: { fields: Record<string, string> } }).upload.fields
  }
  // CPU time of each server process over the timed rounds (reset after the warm-up).
  const cpu = { service: 0, bare: 0, serviceUploads: 0, bareUploads: 0 }
  const load = async (server: Server, target: 'service' | 'bare', count: number, fields: Record<string, string>) => {
    const cpuBefore = server.cpuMs()
    const out = JSON.parse(await run(['--import', 'tsx', loader('uploads.ts'), JSON.stringify({ target, base: server.base, token: ctx.token, count, concurrency: CONCURRENCY, size: SIZE, fields })])) as { mbps: number }
    // Keep the disk from filling: the files are not needed once written.
    for (const d of [bareDir, join(dir, 'service', 'uploads', 'profile')]) {
      if (!existsSync(d)) continue
      for (const f of readdirSync(d, { withFileTypes: true })) if (f.isFile()) rmSync(join(d, f.name), { force: true })
    }
    cpu[target] += server.cpuMs() - cpuBefore
    cpu[`${target}Uploads`] += count
    return out.mbps
  }

  const service = await startService('service')
  const bare = await startServer('bare multipart', baseline('bare-multipart.mjs'), { BENCH_DIR: bareDir }, { readyPath: '/ready', logFile: join(ctx.work, 'uploads-bare.log') })
  const rows: Row[] = []
  try {
    const fields = await fieldsOf(service)
    await load(bare, 'bare', 20, fields)
    await load(service, 'service', 20, fields)
    Object.assign(cpu, { service: 0, bare: 0, serviceUploads: 0, bareUploads: 0 })
    const rounds: Array<{ service: number, bare: number, ratio: number }> = []
    for (let r = 0; r < ctx.rounds; r++) {
      // Alternate which goes first: drift on a shared machine hits both alike.
      const first = r % 2 === 0 ? 'bare' : 'service'
      const a = first === 'bare' ? await load(bare, 'bare', ctx.uploadCount, fields) : await load(service, 'service', ctx.uploadCount, fields)
      const b = first === 'bare' ? await load(service, 'service', ctx.uploadCount, fields) : await load(bare, 'bare', ctx.uploadCount, fields)
      const [s, m] = first === 'bare' ? [b, a] : [a, b]
      rounds.push({ service: s, bare: m, ratio: s / m })
      ctx.progress(`uploads round ${r + 1}: service ${s.toFixed(0)} MB/s, bare ${m.toFixed(0)} MB/s`)
    }
    const rss = service.peakRss() / MB
    rows.push(ratioRow('devUploads', `development uploads (5 MiB, ${CONCURRENCY} concurrent)`, 'MB/s', 0.8, rounds), {
      // Steadier than the throughput on a shared machine: it does not depend on what else runs.
      id: 'devUploadCpu', label: 'CPU per upload, all threads (lower is better)', unit: 'ms', service: cpu.service / cpu.serviceUploads, baseline: cpu.bare / cpu.bareUploads
    }, { id: 'devUploadsPeakRss', label: 'peak RSS during uploads (node dist/server.js)', unit: 'MB', service: rss, baseline: bare.peakRss() / MB, target: '< 150 MB', met: rss < 150 })
  } finally {
    await Promise.all([service.stop(), bare.stop()])
  }
  return rows
}
