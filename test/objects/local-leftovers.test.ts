// Development storage's own leftovers (issue 16, item 9): the temporary file of an upload whose process was killed
// (kill -9) is removed at the next start and, while another process sharing the folder keeps running, by its
// sweeper; a temporary file whose writer lives is never touched. Real processes (node --import tsx src/server.ts);
// an upload streams slowly over a raw HTTP request so that it is in flight when the process dies.
import { randomBytes } from 'node:crypto'
import { readdirSync, utimesSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import t from 'tap'
import { listen, scratch, TOKEN } from '../helpers/build.js'
import type { TicketUpload } from '../helpers/form.js'
import { startServer } from '../helpers/server-process.js'
import { createTicket } from '../helpers/upload-flow.js'
import { eventually } from '../helpers/wait.js'
import { freePort } from '../helpers/webhook-receiver.js'

/** A form post whose body is sent in two halves: the first at once, the rest when `finish()` is called. */
function slowPost (upload: TicketUpload, file: Buffer) {
  const boundary = `----leftovers${randomBytes(8).toString('hex')}`
  const fields = Object.entries(upload.fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('')
  const head = Buffer.from(`${fields}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`)
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const half = file.length >> 1
  let answered: (status: number) => void = () => {}
  const status = new Promise<number>((resolve) => { answered = resolve })
  const req = request(upload.url, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + file.length + tail.length } }, (res) => {
    res.resume()
    answered(res.statusCode ?? 0)
  })
  // The server may go away mid-request (killed): that is the point.
  req.on('error', () => { answered(0) })
  req.write(Buffer.concat([head, file.subarray(0, half)]))
  return {
    finish: async () => {
      req.end(Buffer.concat([file.subarray(half), tail]))
      return await status
    },
    abort: () => { req.destroy() }
  }
}

t.test('kill -9 mid-upload: a live writer\'s file is left alone; a dead one\'s is removed by the running sweeper and at start', async (t) => {
  const uploads = scratch(t)
  const parts = () => readdirSync(join(uploads, '.incoming')).filter((n) => n.endsWith('.part'))
  const env = async (sweep: string) => {
    const port = await freePort()
    return { ENVIRONMENT: 'development', HOST: '127.0.0.1', PORT: String(port), PUBLIC_BASE_URL: `http://127.0.0.1:${port}`, DATA_DIR: scratch(t), UPLOADS_DIR: uploads, SERVICE_TOKENS: TOKEN, SWEEP_INTERVAL_SECONDS: sweep, LOG_LEVEL: 'warn' }
  }
  const file = randomBytes(256 * 1024)

  const a = await startServer(t, await env('1'))
  const first = slowPost((await createTicket(a.base, 'owner-a')).upload, file)
  t.teardown(first.abort)
  const [inFlight] = await eventually(() => parts().length === 1 ? parts() : undefined, { what: 'the upload\'s temporary file' })

  // A second process on the same folder (a shared volume), sweeping every second.
  const bEnv = await env('1')
  const b = await startServer(t, bEnv)
  // Its start and a few of its passes (and a's own).
  await new Promise((resolve) => setTimeout(resolve, 3000))
  t.same(parts(), [inFlight], 'neither the other process\'s start nor its sweeper removes a file its writer still writes')
  t.equal(await first.finish(), 201, 'and that upload completes')
  t.same(parts(), [], 'no temporary file left')

  const second = slowPost((await createTicket(a.base, 'owner-a')).upload, file)
  t.teardown(second.abort)
  await eventually(() => parts().length === 1 || undefined, { what: 'the second upload\'s temporary file' })
  a.child.kill('SIGKILL')
  await a.exited
  t.equal(parts().length, 1, 'kill -9 left the temporary file')
  await eventually(() => parts().length === 0 || undefined, { what: 'the running process\'s sweeper to remove the dead one\'s temporary file' })
  t.pass('removed while the other process keeps running')

  const third = slowPost((await createTicket(b.base, 'owner-b')).upload, file)
  t.teardown(third.abort)
  await eventually(() => parts().length === 1 || undefined, { what: 'the third upload\'s temporary file' })
  b.child.kill('SIGKILL')
  await b.exited
  t.equal(parts().length, 1, 'kill -9 left it')
  // Restarted without a sweeper: the start itself removes it.
  await startServer(t, { ...bEnv, SWEEP_INTERVAL_SECONDS: '0' })
  t.same(parts(), [], 'the restart removed it before it listened')
})

t.test('temporary files of unknown writers go by age; staged uploads older than any ticket go too', async (t) => {
  const { app } = await listen(t, { UPLOAD_TTL_SECONDS: '600', UPLOAD_GRACE_SECONDS: '300' })
  const dir = app.config.upload.dir
  const now = Date.now()
  const file = (path: string, ageMs: number) => {
    writeFileSync(path, 'x')
    const at = new Date(now - ageMs)
    utimesSync(path, at, at)
  }
  const minutes = 60_000
  const uuid = '0c0b5a4e-5f7e-4c1a-9a39-3f3c1c2f4d5e'
  file(join(dir, '.incoming', `other-host.123.${uuid}.part`), 5 * minutes)
  file(join(dir, '.incoming', `gone-host.456.${uuid}.part`), 11 * minutes)
  file(join(dir, '.incoming', `${uuid}.part`), 11 * minutes)
  file(join(dir, '.staging', 'fresh.png'), 60 * minutes)
  // A ticket lives 10 minutes, plus 5 of grace, plus a day the sweeper may have been stopped.
  file(join(dir, '.staging', 'abandoned.png'), 24 * 60 * minutes + 16 * minutes)
  t.match(await app.sweeper.sweep(), { files: 3 })
  t.same(readdirSync(join(dir, '.incoming')), [`other-host.123.${uuid}.part`], 'another host\'s recent file stays (its writer may live); old ones of any name go')
  t.same(readdirSync(join(dir, '.staging')), ['fresh.png'], 'a staged upload older than a ticket\'s life, grace and a day goes')
})
