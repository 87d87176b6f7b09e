// A failed log write never takes the service down (issue 16, item 10): with stdout on a full disk the service keeps
// answering, counts the failures in /metrics, and logs again once there is room. A real process, its stdout a file
// on a small tmpfs that the test fills.
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { batchedStdout } from '../src/logger.js'
import { scratch, TOKEN } from './helpers/build.js'
import { startServer } from './helpers/server-process.js'
import { fill, tmpfs, tmpfsUnavailable } from './helpers/tmpfs.js'
import { eventually } from './helpers/wait.js'
import { freePort } from './helpers/webhook-receiver.js'

const failuresOf = (metrics: string) => Number(/^log_write_failures_total (\d+)$/m.exec(metrics)?.[1] ?? NaN)

t.test('stdout on a full disk: the service keeps answering and counts the failed writes', { skip: tmpfsUnavailable }, async (t) => {
  const disk = tmpfs(t, '1m')
  const log = join(disk, 'service.log')
  const fd = openSync(log, 'a')
  t.teardown(() => closeSync(fd))
  const port = await freePort()
  const server = await startServer(t, {
    ENVIRONMENT: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: scratch(t),
    UPLOADS_DIR: scratch(t),
    SERVICE_TOKENS: TOKEN,
    SWEEP_INTERVAL_SECONDS: '0'
  }, { stdout: fd })
  let stderr = ''
  server.child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  await eventually(() => readFileSync(log, 'utf8').includes('image-service ready') || undefined, { what: 'the start line in the log' })

  const filler = fill(disk)
  // Each answer writes an access line (404s log at info); a few still fit in the log file's last page.
  const statuses = new Set<number>()
  for (let i = 0; i < 300; i++) statuses.add((await fetch(`${server.base}/nothing-${i}`)).status)
  t.same([...statuses], [404], 'every request answered')
  const failures = await eventually(async () => {
    const n = failuresOf(await (await fetch(`${server.base}/metrics`)).text())
    return n > 0 ? n : undefined
  }, { what: 'log_write_failures_total above 0' })
  t.ok(failures > 0, `log_write_failures_total ${failures}`)
  t.equal(server.child.exitCode, null, 'the service is still running')
  t.equal((await fetch(`${server.base}/health`)).status, 200, 'and answers')
  t.match(stderr, /writing the log failed \(ENOSPC\)/, 'the failure is said on stderr')

  rmSync(filler)
  await eventually(async () => {
    await fetch(`${server.base}/after-the-disk-was-freed`)
    return readFileSync(log, 'utf8').includes('/after-the-disk-was-freed') || undefined
  }, { what: 'log lines once the disk has room again' })
  t.pass('lines are written again once there is room')
})

t.test('a failing output: lines are dropped and counted, never thrown; later lines go out', async (t) => {
  const written: string[] = []
  let failing = true
  const stream = batchedStdout((text) => {
    if (failing) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })
    written.push(String(text))
    return undefined
  }, { bytes: 10, ms: 5 })
  t.doesNotThrow(() => { stream.write('a line long enough to be written at once\n') }, 'a write at the size limit')
  stream.write('short\n')
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(stream.failures?.(), 2, 'both writes counted (the timer\'s too, which would have been an uncaught exception)')
  failing = false
  stream.write('after\n')
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.same(written, ['after\n'], 'the dropped lines are gone; the next ones are written')
})

t.test('an output that takes no more yet: the rest is written later, in order', async (t) => {
  const written: Buffer[] = []
  let room = 4
  const stream = batchedStdout((text) => {
    const bytes = typeof text === 'string' ? Buffer.from(text) : text
    written.push(bytes.subarray(0, room))
    const rest = bytes.subarray(room)
    room = 1000
    return rest.length > 0 ? rest : undefined
  }, { bytes: 1000, ms: 5 })
  stream.write('héllo ')
  await new Promise((resolve) => setTimeout(resolve, 20))
  stream.write('world\n')
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(Buffer.concat(written).toString(), 'héllo world\n', 'no byte lost or split wrongly')
  t.equal(stream.failures?.(), 0)
})
