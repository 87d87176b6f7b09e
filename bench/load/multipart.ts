// Multipart bodies as a browser builds them (every field, then the file part), sent with node:http so the
// loader copies nothing: the file buffer is written as is between a small head and tail.
import { randomBytes } from 'node:crypto'
import { Agent, request } from 'node:http'

export interface Form { url: string, fields: Record<string, string> }

/** A PNG-looking file: the PNG signature, then random bytes (the service only checks the first bytes). */
export function pngLike (size: number): Buffer {
  const file = randomBytes(size)
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(file)
  return file
}

/** POSTs `fields` then `file` as multipart/form-data; resolves with the status and the response text. */
export async function postForm (agent: Agent, form: Form, file: Buffer, type = 'image/png', filename = 'avatar.png'): Promise<{ status: number, body: string }> {
  const boundary = `----bench${randomBytes(8).toString('hex')}`
  let head = ''
  for (const [k, v] of Object.entries(form.fields)) head += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`
  const tail = `\r\n--${boundary}--\r\n`
  const length = Buffer.byteLength(head) + file.length + Buffer.byteLength(tail)
  return await new Promise((resolve, reject) => {
    const req = request(form.url, {
      method: 'POST',
      agent,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': length }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.write(head)
    req.write(file)
    req.end(tail)
  })
}

/** Runs `task(i)` for i in [0, count) with `concurrency` in flight. */
export async function pool (count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => { while (next < count) await task(next++) }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
}

/** Asks the service for `count` upload tickets (not timed), each for its own owner. */
export async function createTickets (base: string, token: string, count: number, contentLength: number, contentType = 'image/png'): Promise<Array<Form & { uploadId: string }>> {
  const tickets: Array<Form & { uploadId: string }> = []
  await pool(count, 20, async (i) => {
    const res = await fetch(`${base}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ownerId: `bench-${i}`, contentType, contentLength })
    })
    if (res.status !== 201) throw new Error(`POST /v1/uploads answered ${res.status}: ${await res.text()}`)
    const t = await res.json() as { uploadId: string, upload: Form }
    tickets[i] = { uploadId: t.uploadId, ...t.upload }
  })
  return tickets
}
