// Loader for image completions (a separate process), in two steps so that only completions are timed and the
// bench can look at the service in between:
// - `prepare`: `count` tickets for `contentType` with the photo's exact length, and the photo posted through each
//   ticket's form (to the service in development, straight to S3 in production), 4 at a time; prints { ids }.
// - `complete`: POST /v1/uploads/{id}/complete for `ids` with `concurrency` in flight, each answer checked (200,
//   confirmed, the expected size, every variant, a placeholder); prints { completions, seconds,
//   completionsPerSecond, p50, max } (seconds from the first completion sent to the last answered).
import { readFileSync } from 'node:fs'
import { Agent } from 'node:http'
import { percentile } from '../stats.js'
import { createTickets, pool, postForm } from './multipart.js'

interface Args {
  mode: 'prepare' | 'complete'
  base: string
  token: string
  file?: string
  contentType?: string
  count?: number
  ids?: string[]
  concurrency: number
  /** What every answer must say. */
  expect?: { width: number, height: number, variants: number }
}
const args = JSON.parse(process.argv[2] ?? '{}') as Args

interface Confirmed { status: string, width: number, height: number, placeholder: string, variants: unknown[] }

if (args.mode === 'prepare') {
  const file = readFileSync(args.file ?? '')
  const type = args.contentType ?? 'image/jpeg'
  const tickets = await createTickets(args.base, args.token, args.count ?? 0, file.length, type)
  const agent = new Agent({ keepAlive: true, maxSockets: 4 })
  await pool(tickets.length, 4, async (i) => {
    const res = await postForm(agent, tickets[i]!, file, type, 'photo.jpg')
    if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${res.body.slice(0, 300)}`)
  })
  agent.destroy()
  process.stdout.write(JSON.stringify({ ids: tickets.map((t) => t.uploadId) }) + '\n')
} else {
  const ids = args.ids ?? []
  const took: number[] = []
  const started = performance.now()
  await pool(ids.length, args.concurrency, async (i) => {
    const sent = performance.now()
    const res = await fetch(`${args.base}/v1/uploads/${ids[i] ?? ''}/complete`, { method: 'POST' })
    const text = await res.text()
    took.push(performance.now() - sent)
    if (res.status !== 200) throw new Error(`complete answered ${res.status}: ${text.slice(0, 300)}`)
    const body = JSON.parse(text) as Confirmed
    const e = args.expect
    if (body.status !== 'confirmed' || body.placeholder.length === 0 || (e !== undefined && (body.width !== e.width || body.height !== e.height || body.variants.length !== e.variants))) {
      throw new Error(`unexpected completion: ${text.slice(0, 300)}`)
    }
  })
  const seconds = (performance.now() - started) / 1000
  process.stdout.write(JSON.stringify({ completions: ids.length, seconds, completionsPerSecond: ids.length / seconds, p50: percentile(took, 50), max: Math.max(...took) }) + '\n')
}
