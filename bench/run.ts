// npm run bench: starts the compiled service (dist/) and bare Fastify baselines as child processes on loopback
// ports, loads them from separate loader processes, prints a table of figures and ratios, writes
// bench/results.json and ends with one JSON line of the ratios. See docs/performance.md.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, SERVICE_ENTRY } from './processes.js'
import { coldStartSection } from './sections/cold-start.js'
import { completionSection } from './sections/completion.js'
import type { BenchContext } from './sections/context.js'
import { imagesSection } from './sections/images.js'
import { storeSection } from './sections/store.js'
import { ticketsSection } from './sections/tickets.js'
import { uploadsSection } from './sections/uploads.js'
import type { Row } from './stats.js'

const SECTIONS = { tickets: ticketsSection, uploads: uploadsSection, completion: completionSection, images: imagesSection, coldStart: coldStartSection, store: storeSection }
type SectionName = keyof typeof SECTIONS
/** Run only when named in BENCH_ONLY: store fills a database with a million rows (minutes, gigabytes). */
const ON_REQUEST: SectionName[] = ['store']

// BENCH_ONLY=tickets,uploads runs a subset (while working on one figure).
const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean) as SectionName[]
const selected = only.length > 0 ? only : (Object.keys(SECTIONS) as SectionName[]).filter((name) => !ON_REQUEST.includes(name))

if (!existsSync(SERVICE_ENTRY)) {
  process.stderr.write(`bench: ${SERVICE_ENTRY} is missing; run npm run build first (npm run bench does)\n`)
  process.exit(1)
}

const work = mkdtempSync(join(tmpdir(), 'image-service-bench-'))
const token = 'bench-token-0123456789abcdef'
const ctx: BenchContext = {
  work,
  token,
  // The service as deployed: info logging (to a file), defaults everywhere else, except the per-address limit of
  // the browser endpoints: every loader sends from 127.0.0.1, hundreds of uploads and completions a minute.
  devEnv: { ENVIRONMENT: 'development', LOG_LEVEL: 'info', SERVICE_TOKENS: token, SWEEP_INTERVAL_SECONDS: '0', BROWSER_RATE_LIMIT: '0' },
  rounds: Number(process.env.BENCH_ROUNDS ?? 5),
  seconds: Number(process.env.BENCH_SECONDS ?? 8),
  uploadCount: Number(process.env.BENCH_UPLOADS ?? 100),
  completionCount: Number(process.env.BENCH_COMPLETIONS ?? 1000),
  profile: process.env.BENCH_PROFILE === '1',
  progress: (line) => process.stderr.write(`  ${line}\n`)
}

const rows: Row[] = []
let failed = false
for (const name of selected) {
  process.stderr.write(`bench: ${name}\n`)
  try {
    rows.push(...await SECTIONS[name](ctx))
  } catch (err) {
    failed = true
    process.stderr.write(`bench: ${name} failed: ${err instanceof Error ? err.message : String(err)}\n  logs kept in ${work}\n`)
  }
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined || !Number.isFinite(n) ? '' : n.toFixed(digits))
// Milliseconds and image completions (a few per second) need a decimal; the other figures do not.
const digitsOf = (unit: string) => (unit === 'ms' || unit === 'completions/s' ? 1 : 0)
const table = [
  ['figure', 'unit', 'service', 'baseline', 'ratio', 'target', ''],
  ...rows.map((r) => [r.label, r.unit, fmt(r.service, digitsOf(r.unit)), fmt(r.baseline, digitsOf(r.unit)), r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`, r.target ?? '', r.met === undefined ? '' : r.met ? 'met' : 'MISSED'])
]
const widths = table[0]!.map((_, i) => Math.max(...table.map((line) => (line[i] ?? '').length)))
process.stdout.write('\n' + table.map((line) => line.map((cell, i) => i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)).join('  ')).join('\n') + '\n\n')

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, platform: `${process.platform} ${process.arch}` }
const ratios = Object.fromEntries(rows.filter((r) => r.ratio !== undefined).map((r) => [r.id, Number(r.ratio!.toFixed(3))]))
const figures = Object.fromEntries(rows.map((r) => [r.id, { unit: r.unit, service: r.service, baseline: r.baseline, ratio: r.ratio, target: r.target, met: r.met }]))
writeFileSync(join(ROOT, 'bench', 'results.json'), JSON.stringify({ date: new Date().toISOString(), machine, ratios, figures, rows }, null, 2) + '\n')
if (!failed && !ctx.profile) rmSync(work, { recursive: true, force: true })
process.stdout.write(JSON.stringify({ ratios, figures: Object.fromEntries(rows.filter((r) => r.ratio === undefined).map((r) => [r.id, Number(r.service.toFixed(1))])) }) + '\n')
process.exitCode = failed ? 1 : 0
