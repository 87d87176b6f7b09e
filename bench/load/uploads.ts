// Loader for development uploads (a separate process): `count` uploads of `size` bytes with `concurrency` in
// flight, to the service's form endpoint (tickets created beforehand, not timed) or to the bare multipart route.
// Prints { uploads, bytes, seconds, mbps }.
import { Agent } from 'node:http'
import { createTickets, pngLike, pool, postForm, type Form } from './multipart.js'

interface Args { target: 'service' | 'bare', base: string, token: string, count: number, concurrency: number, size: number, fields: Record<string, string> }
const args = JSON.parse(process.argv[2] ?? '{}') as Args

const file = pngLike(args.size)
const forms: Form[] = args.target === 'service'
  ? await createTickets(args.base, args.token, args.count, args.size)
  : Array.from({ length: args.count }, () => ({ url: `${args.base}/uploads`, fields: args.fields }))

const agent = new Agent({ keepAlive: true, maxSockets: args.concurrency })
const started = performance.now()
await pool(args.count, args.concurrency, async (i) => {
  const res = await postForm(agent, forms[i] as Form, file)
  if (res.status !== 201) throw new Error(`upload ${i} to ${args.target} answered ${res.status}: ${res.body}`)
})
const seconds = (performance.now() - started) / 1000
agent.destroy()
const bytes = args.count * args.size
process.stdout.write(JSON.stringify({ uploads: args.count, bytes, seconds, mbps: bytes / seconds / 1e6 }) + '\n')
