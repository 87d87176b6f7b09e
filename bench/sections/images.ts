// Image completions: POST /v1/uploads/{id}/complete of 12-megapixel phone photos (bench/load/photo.ts: 4000×3000
// JPEG, ~3 MB, EXIF with GPS, orientation 6), which decodes, orients, strips and re-encodes the main image, the
// four WebP variants and the ThumbHash (src/images/pipeline.ts), writes every object and commits the confirmation.
// - Throughput at 4 in flight, development mode (SQLite, local folder, no WEBHOOK_URL: the image work and the
//   confirmation only), against bench/baselines/bare-images.mjs, a bare sharp script doing the same image work on
//   the same bytes at the same concurrency in its own process. Uploading is preparation (not timed); rounds
//   alternate; the ratio is the median of per-round ratios.
// - Peak RSS (VmHWM) of a fresh development service (plain node dist/server.js) through bursts of 20 completions
//   at once.
// - Production mode: the same completions against a real S3 gateway (Ceph radosgw, scripts/s3-gateway.sh), the
//   form posted straight to it; a figure, no target. Skipped, with a note, when radosgw is not installed.
// BENCH_IMAGES sets the completions per round; BENCH_IMAGE_ENV (JSON) adds variables to the service's and the bare
// script's environment (e.g. {"UV_THREADPOOL_SIZE":"8","MALLOC_ARENA_MAX":"2","IMAGE_CONCURRENCY":"4"}).
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { photoJpeg } from '../load/photo.js'
import { baseline, freePort, loader, ROOT, run, SERVICE_ENTRY, startServer, type Server } from '../processes.js'
import { median, ratioRow, type Row } from '../stats.js'
import type { BenchContext } from './context.js'

const CONCURRENCY = 4
const BURST = 20
const BURSTS = 3
const MB = 1024 * 1024
const MAX_UPLOAD_BYTES = 5 * MB
/** What every completion of the photo answers: oriented to portrait, fitted into 1024, four variants. */
const EXPECT = { width: 768, height: 1024, variants: 4 }
const UNIT = 'completions/s'
// Throughput is what is measured: the per-owner and per-IP limits would stop a loader sending from one address.
const NO_LIMITS = { TICKET_RATE_LIMIT: '0', BROWSER_RATE_LIMIT: '0' }

interface Timed { completions: number, seconds: number, completionsPerSecond: number, cpuMs?: number, p50?: number, max?: number, peakRssMb?: number }

export async function imagesSection (ctx: BenchContext): Promise<Row[]> {
  const dir = join(ctx.work, 'images')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'photo.jpg')
  const photo = await photoJpeg()
  if (photo.length > MAX_UPLOAD_BYTES) throw new Error(`the bench photo is ${photo.length} bytes, over the default MAX_UPLOAD_BYTES`)
  writeFileSync(file, photo)
  ctx.progress(`images: photo 4000×3000 JPEG, ${(photo.length / 1e6).toFixed(2)} MB`)
  const extra = JSON.parse(process.env.BENCH_IMAGE_ENV ?? '{}') as Record<string, string>
  const count = Number(process.env.BENCH_IMAGES ?? 24)
  const nodeArgs = ctx.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(ctx.work, 'profiles')}`] : []

  const devService = async (name: string) => {
    const port = await freePort()
    return await startServer(`service (${name})`, SERVICE_ENTRY, {
      ...ctx.devEnv,
      ...NO_LIMITS,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: join(dir, name, 'data'),
      UPLOADS_DIR: join(dir, name, 'uploads'),
      ...extra
    }, { readyPath: '/ready', logFile: join(ctx.work, `images-${name}.log`), port, nodeArgs })
  }
  const prepare = async (server: Server, n: number) => {
    const out = JSON.parse(await run(['--import', 'tsx', loader('images.ts'), JSON.stringify({ mode: 'prepare', base: server.base, token: ctx.token, file, count: n, concurrency: CONCURRENCY })])) as { ids: string[] }
    return out.ids
  }
  const complete = async (server: Server, ids: string[], concurrency: number) =>
    JSON.parse(await run(['--import', 'tsx', loader('images.ts'), JSON.stringify({ mode: 'complete', base: server.base, token: ctx.token, ids, concurrency, expect: EXPECT })])) as Timed
  /** Uploads (not timed), then `n` completions timed; cpuMs: the service process's CPU (all threads) per completion. */
  const serviceRound = async (server: Server, n: number, concurrency = CONCURRENCY): Promise<Timed> => {
    const ids = await prepare(server, n)
    const cpu = server.cpuMs()
    const timed = await complete(server, ids, concurrency)
    return { ...timed, cpuMs: (server.cpuMs() - cpu) / n }
  }
  const bare = async (n: number, concurrency = CONCURRENCY) =>
    JSON.parse(await run([baseline('bare-images.mjs'), JSON.stringify({ file, count: n, concurrency })], extra)) as Timed

  const rows: Row[] = []
  const service = await devService('development')
  try {
    await bare(CONCURRENCY)
    await serviceRound(service, CONCURRENCY)
    const rounds: Array<{ service: number, bare: number, ratio: number, serviceCpuMs: number, bareCpuMs: number, serviceP50: number | undefined, bareRssMb: number | undefined }> = []
    for (let r = 0; r < ctx.rounds; r++) {
      const bareFirst = r % 2 === 0
      const b1 = bareFirst ? await bare(count) : undefined
      const s = await serviceRound(service, count)
      const b = b1 ?? await bare(count)
      rounds.push({ service: s.completionsPerSecond, bare: b.completionsPerSecond, ratio: s.completionsPerSecond / b.completionsPerSecond, serviceCpuMs: s.cpuMs ?? NaN, bareCpuMs: b.cpuMs ?? NaN, serviceP50: s.p50, bareRssMb: b.peakRssMb })
      ctx.progress(`images round ${r + 1}: service ${s.completionsPerSecond.toFixed(2)}/s (${(s.cpuMs ?? 0).toFixed(0)} ms CPU each, p50 ${(s.p50 ?? 0).toFixed(0)} ms), bare sharp ${b.completionsPerSecond.toFixed(2)}/s (${(b.cpuMs ?? 0).toFixed(0)} ms CPU each), ratio ${(s.completionsPerSecond / b.completionsPerSecond).toFixed(2)}×`)
    }
    rows.push(
      ratioRow('imageCompletions', `image completions, 12 MP JPEG, ${CONCURRENCY} in flight (development)`, UNIT, 0.85, rounds),
      // Less sensitive to the machine's other tenants than the throughput: what each completion costs.
      { id: 'imageCpu', label: 'CPU per image completion, all threads (lower is better)', unit: 'ms', service: median(rounds.map((x) => x.serviceCpuMs)), baseline: median(rounds.map((x) => x.bareCpuMs)) }
    )
    ctx.progress(`images: service peak RSS through the rounds ${(service.peakRss() / MB).toFixed(0)} MB`)
  } finally {
    await service.stop()
  }

  // Peak RSS: a fresh service, only the uploads (4 at a time) and bursts of 20 completions at once.
  const fresh = await devService('rss')
  try {
    const bursts: Array<{ completionsPerSecond: number, max: number | undefined, peakRssMb: number }> = []
    for (let i = 0; i < BURSTS; i++) {
      const t = await serviceRound(fresh, BURST, BURST)
      bursts.push({ completionsPerSecond: t.completionsPerSecond, max: t.max, peakRssMb: fresh.peakRss() / MB })
    }
    const b = await bare(BURST, BURST)
    const rss = fresh.peakRss() / MB
    ctx.progress(`images: peak RSS after each burst of ${BURST}: ${bursts.map((x) => x.peakRssMb.toFixed(0)).join(', ')} MB (bare sharp, ${BURST} at once: ${(b.peakRssMb ?? 0).toFixed(0)} MB); slowest completion ${Math.max(...bursts.map((x) => x.max ?? 0)).toFixed(0)} ms`)
    rows.push({ id: 'imagePeakRss', label: `peak RSS, ${BURST} completions at once (node dist/server.js)`, unit: 'MB', service: rss, baseline: b.peakRssMb, target: '< 350 MB', met: rss < 350, rounds: bursts })
  } finally {
    await fresh.stop()
  }

  rows.push(await production(ctx, { file, count, extra, nodeArgs, serviceRound }))
  return rows
}

interface ProductionDeps {
  file: string
  count: number
  extra: Record<string, string>
  nodeArgs: string[]
  serviceRound: (server: Server, n: number) => Promise<Timed>
}

const PRODUCTION_ID = 'prodImageCompletions'
const PRODUCTION_LABEL = `image completions, 12 MP JPEG, ${CONCURRENCY} in flight (production, radosgw)`

/** The same completions in production mode, the uploads posted straight to a local radosgw. */
async function production (ctx: BenchContext, deps: ProductionDeps): Promise<Row> {
  const gatewayLog = join(ctx.work, 'images-rgw.log')
  if (await gateway(['available'], gatewayLog) === undefined) {
    ctx.progress('images: production SKIPPED: radosgw is not installed (apt-get install ceph-mon ceph-osd radosgw)')
    return { id: PRODUCTION_ID, label: `${PRODUCTION_LABEL}: SKIPPED, radosgw not installed`, unit: UNIT, service: NaN }
  }
  const gatewayDir = join(ctx.work, 'images', 'rgw')
  const started = await gateway(['start', gatewayDir, String(await freePort())], gatewayLog)
  const endpoint = started?.trim().split('\n').pop()
  try {
    if (endpoint === undefined || !endpoint.startsWith('http')) throw new Error(`radosgw did not start; see ${gatewayLog}`)
    const credentials = { accessKeyId: 'test-access-key', secretAccessKey: 'test-secret-key' }
    // The SDK's notice that releases from 2027 need Node 22 would land in the middle of the bench's output.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
    const bucket = 'bench-images'
    const client = new S3Client({ endpoint, region: 'us-east-1', credentials, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' })
    await client.send(new CreateBucketCommand({ Bucket: bucket }))
    client.destroy()
    const service = await startServer('service (production)', SERVICE_ENTRY, {
      ENVIRONMENT: 'production',
      LOG_LEVEL: 'info',
      SERVICE_TOKENS: ctx.token,
      SWEEP_INTERVAL_SECONDS: '0',
      DATA_DIR: join(ctx.work, 'images', 'production', 'data'),
      AWS_S3_BUCKET: bucket,
      AWS_S3_ENDPOINT: endpoint,
      AWS_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: 'us-east-1',
      ...NO_LIMITS,
      ...deps.extra
    }, { readyPath: '/ready', logFile: join(ctx.work, 'images-production.log'), nodeArgs: deps.nodeArgs })
    try {
      await deps.serviceRound(service, CONCURRENCY)
      const rounds: Timed[] = []
      for (let r = 0; r < ctx.rounds; r++) {
        const t = await deps.serviceRound(service, deps.count)
        rounds.push(t)
        ctx.progress(`images production round ${r + 1}: ${t.completionsPerSecond.toFixed(2)}/s (${(t.cpuMs ?? 0).toFixed(0)} ms CPU each, p50 ${(t.p50 ?? 0).toFixed(0)} ms)`)
      }
      ctx.progress(`images: production service peak RSS ${(service.peakRss() / MB).toFixed(0)} MB`)
      return { id: PRODUCTION_ID, label: PRODUCTION_LABEL, unit: UNIT, service: median(rounds.map((t) => t.completionsPerSecond)), rounds }
    } finally {
      await service.stop()
    }
  } finally {
    await gateway(['stop', gatewayDir], gatewayLog)
  }
}

/** Runs scripts/s3-gateway.sh; its stdout when it exits 0, else undefined. Its stderr goes to `log`. */
async function gateway (args: string[], log: string): Promise<string | undefined> {
  const fd = openSync(log, 'a')
  try {
    return await new Promise((resolve, reject) => {
      const proc = spawn('bash', [join(ROOT, 'scripts', 's3-gateway.sh'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', fd] })
      const out: Buffer[] = []
      proc.stdout?.on('data', (b: Buffer) => out.push(b))
      proc.on('error', reject)
      proc.on('close', (code) => resolve(code === 0 ? Buffer.concat(out).toString('utf8') : undefined))
    })
  } finally {
    closeSync(fd)
  }
}
