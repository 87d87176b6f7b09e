// The server caps against real sockets: MAX_CONNECTIONS, the header and keep-alive timeouts, and the development
// form's total size cap (refused from Content-Length, before the body is read).
import { once } from 'node:events'
import { readdirSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { formCapBytes } from '../../src/limits/form-cap.js'
import { defaultMaxConnections, openFileLimit } from '../../src/limits/server-caps.js'
import { AUTH, listen, scratch } from '../helpers/build.js'
import { eventually } from '../helpers/wait.js'
import { writeFileSync } from 'node:fs'
import type { App } from '../../src/app.js'

interface Client { socket: Socket, received: () => string, closed: Promise<unknown> }

/** A raw TCP client that keeps what it receives. */
async function client (base: string, allowHalfOpen = false): Promise<Client> {
  const { hostname, port } = new URL(base)
  const socket = connect({ port: Number(port), host: hostname, allowHalfOpen })
  let data = ''
  socket.on('data', (d: Buffer) => { data += d.toString('latin1') })
  socket.on('error', () => {})
  // Not events.once: it would reject on the EPIPE of a write the server no longer reads.
  const closed = new Promise((resolve) => socket.once('close', resolve))
  await once(socket, 'connect')
  return { socket, received: () => data, closed }
}

const openConnections = async (app: App) => await new Promise<number>((resolve, reject) => app.server.getConnections((err, n) => err ? reject(err) : resolve(n)))
const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0)

async function metric (app: App, name: string): Promise<number | undefined> {
  const text = (await app.inject('/metrics')).body
  const found = text.split('\n').find((l) => l.startsWith(`${name} `))
  return found === undefined ? undefined : Number(found.split(' ').pop())
}

t.test('MAX_CONNECTIONS: a connection over the cap is closed on arrival; those within it keep working', async (t) => {
  const { app, base } = await listen(t, { MAX_CONNECTIONS: '3' })
  const held = [await client(base), await client(base), await client(base)]
  t.teardown(() => { for (const c of held) c.socket.destroy() })
  await eventually(async () => (await openConnections(app)) === 3 || undefined, { what: 'the server to hold 3 connections' })

  const over = await client(base)
  over.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
  await over.closed
  t.equal(over.received(), '', 'the fourth connection was closed without an answer')
  t.equal(await metric(app, 'http_connections_dropped_total'), 1, '/metrics counts it')

  held[0]!.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
  await eventually(() => statusOf(held[0]!.received()) || undefined, { what: 'an answer on a held connection' })
  t.equal(statusOf(held[0]!.received()), 200, 'a connection within the cap is served')

  held[1]!.socket.destroy()
  await eventually(async () => (await openConnections(app)) === 2 || undefined, { what: 'the server to see the close' })
  const next = await client(base)
  t.teardown(() => next.socket.destroy())
  next.socket.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  await next.closed
  t.equal(statusOf(next.received()), 200, 'once one closed, a new connection is served')
})

t.test('the connection cap defaults to half the open-file limit, at most 10,000', async (t) => {
  const dir = scratch(t)
  const limits = join(dir, 'limits')
  writeFileSync(limits, 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n')
  t.equal(openFileLimit(limits), 1024, 'the soft limit')
  t.equal(openFileLimit(join(dir, 'missing')), undefined)
  t.equal(defaultMaxConnections(1024), 512)
  t.equal(defaultMaxConnections(1_048_576), 10_000)
  t.equal(defaultMaxConnections(undefined), 4096, 'unknown: 4096')
  const { app } = await listen(t)
  t.equal(app.server.maxConnections, defaultMaxConnections(openFileLimit()), 'applied when MAX_CONNECTIONS is unset')
  t.ok(app.server.maxConnections < (openFileLimit() ?? Infinity), 'below the process\'s descriptor limit')
})

t.test('a connection that never sends its headers is answered 408 and closed', async (t) => {
  const { app, base } = await listen(t)
  t.equal(app.server.headersTimeout, 10_000)
  const silent = await client(base)
  const partial = await client(base)
  partial.socket.write('POST /v1/uploads HTTP/1.1\r\nHost: x\r\n')
  await Promise.all([silent.closed, partial.closed])
  t.equal(statusOf(silent.received()), 408, 'silent: 408 Request Timeout, then closed')
  t.equal(statusOf(partial.received()), 408, 'headers never finished: the same')
})

t.test('KEEP_ALIVE_TIMEOUT_SECONDS: an idle keep-alive connection is closed', async (t) => {
  const { app, base } = await listen(t, { KEEP_ALIVE_TIMEOUT_SECONDS: '1' })
  t.equal(app.server.keepAliveTimeout, 1000)
  const c = await client(base)
  c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
  await c.closed
  t.equal(statusOf(c.received()), 200, 'answered, kept alive, then closed once idle')
  t.match(c.received(), /keep-alive/i)
})

t.test('the development form: a huge ignored field is answered 413 EntityTooLarge before the body is read', async (t) => {
  const { app, base } = await listen(t)
  const res = await fetch(`${base}/v1/uploads`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ ownerId: 'owner-f', contentType: 'image/png' }) })
  const ticket = await res.json() as { upload: { fields: Record<string, string> } }
  const boundary = '----capboundary'
  const part = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
  const head = Object.entries(ticket.upload.fields).map(([k, v]) => part(k, v)).join('') +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\nPNG\r\n` +
    // After the file: S3 and the endpoint ignore it, but it is 2 GiB.
    `--${boundary}\r\nContent-Disposition: form-data; name="ignored"\r\n\r\n`
  const declared = 2 * 1024 ** 3

  const c = await client(base)
  c.socket.write(`POST /uploads HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${declared}\r\n\r\n${head}`)
  // Keep sending the field, as an attacker would, until the answer comes.
  const chunk = Buffer.alloc(64 * 1024, 'x')
  let sent = 0
  while (statusOf(c.received()) === 0 && !c.socket.destroyed && sent < 256 * 1024 * 1024) {
    if (!c.socket.write(chunk)) await new Promise((resolve) => { c.socket.once('drain', resolve); c.socket.once('close', resolve) })
    sent += chunk.length
    await new Promise((resolve) => setImmediate(resolve))
  }
  await eventually(() => statusOf(c.received()) || undefined, { what: 'the answer' })
  await c.closed
  const answer = c.received()
  t.equal(statusOf(answer), 413, '413')
  t.match(answer, /content-type: application\/xml/i)
  t.match(answer, /connection: close/i, 'the connection closes after the answer')
  t.match(answer, /<Code>EntityTooLarge<\/Code>/, 'S3\'s code')
  t.match(answer, new RegExp(`at most ${formCapBytes(app.config.upload.maxBytes)} are accepted`), 'the message gives the cap')
  t.ok(sent < declared / 8, `answered after ${sent} of ${declared} bytes, and the connection closed`)
  t.same(readdirSync(join(app.config.upload.dir, '.staging')), [], 'nothing stored')
})

t.test('a client that goes on sending after the 413 is cut off: the rest is not read to its end', async (t) => {
  const { base } = await listen(t)
  const declared = 100 * 1024 ** 3
  // Half-open allowed: it does not stop sending when the server's side closes.
  const c = await client(base, true)
  c.socket.write(`POST /uploads HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${declared}\r\n\r\n--b\r\n`)
  const chunk = Buffer.alloc(256 * 1024, 'x')
  let sent = 0
  while (!c.socket.destroyed && sent < declared) {
    if (!c.socket.write(chunk)) await new Promise((resolve) => { c.socket.once('drain', resolve); c.socket.once('close', resolve) })
    sent += chunk.length
    await new Promise((resolve) => setImmediate(resolve))
  }
  await c.closed
  t.equal(statusOf(c.received()), 413, 'the answer arrived while the client was sending')
  t.match(c.received(), /<Code>EntityTooLarge<\/Code>/)
  t.ok(sent < declared, `the server closed the connection after ${sent} of ${declared} bytes`)
})

t.test('the development form without Content-Length (chunked) is answered 411 MissingContentLength', async (t) => {
  const { base } = await listen(t)
  const c = await client(base)
  c.socket.write('POST /uploads HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n--b\r\nContent-Disp\r\n')
  await eventually(() => statusOf(c.received()) || undefined, { what: 'the answer' })
  c.socket.destroy()
  t.equal(statusOf(c.received()), 411)
  t.match(c.received(), /<Code>MissingContentLength<\/Code>/)
})

t.test('a form within the cap but with a file over the policy is still the policy\'s refusal (400 EntityTooLarge)', async (t) => {
  const { base } = await listen(t, { MAX_UPLOAD_BYTES: '1000' })
  const res = await fetch(`${base}/v1/uploads`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ ownerId: 'owner-g', contentType: 'image/png' }) })
  const ticket = await res.json() as { upload: { url: string, fields: Record<string, string> } }
  const form = new FormData()
  for (const [k, v] of Object.entries(ticket.upload.fields)) form.append(k, v)
  form.append('file', new Blob([new Uint8Array(5000)], { type: 'image/png' }), 'a.png')
  const posted = await fetch(ticket.upload.url, { method: 'POST', body: form })
  t.equal(posted.status, 400)
  t.match(await posted.text(), /<Code>EntityTooLarge<\/Code>/)
})
