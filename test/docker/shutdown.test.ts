// `docker stop` (SIGTERM, then SIGKILL after Docker's default 10 s) with a webhook delivery in flight to a slow
// receiver on the host: the service exits by itself with 0 before the SIGKILL, and the delivery has either finished
// or gone back to the queue, from which the next start sends it at once (the same webhook-id).
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { TOKEN } from '../helpers/build.js'
import { answering, container, docker, inspect, logs, volume } from '../helpers/docker.js'
import { confirmed } from '../helpers/upload-flow.js'
import { freePort, startReceiver, WEBHOOK_SECRET } from '../helpers/webhook-receiver.js'

const DOCKER_STOP_SECONDS = 10 // Docker's and Compose's default grace before SIGKILL

const receiver = await startReceiver(t)
const port = await freePort()
const base = `http://127.0.0.1:${port}`
// Host network: the container reaches the receiver on the host's 127.0.0.1. A receiver allowed a minute per attempt
// holds the event's lease (2 × WEBHOOK_TIMEOUT_MS + 1 s) beyond this test: only a release lets the next start send it.
const id = await container(t, [
  '--network', 'host', '-v', `${await volume(t)}:/app/data`,
  '-e', 'HOST=127.0.0.1', '-e', `PORT=${port}`, '-e', `PUBLIC_BASE_URL=${base}`, '-e', `SERVICE_TOKENS=${TOKEN}`,
  '-e', `WEBHOOK_URL=${receiver.url}`, '-e', `WEBHOOK_SECRET=${WEBHOOK_SECRET}`, '-e', 'WEBHOOK_TIMEOUT_MS=60000'
])

/** `docker stop` with Docker's default grace: how long it took and the exit code. */
async function dockerStop (): Promise<{ seconds: number, exitCode: string }> {
  const started = Date.now()
  await docker('stop', '-t', String(DOCKER_STOP_SECONDS), id)
  return { seconds: (Date.now() - started) / 1000, exitCode: await inspect(id, '{{.State.ExitCode}}') }
}

t.test('SIGTERM while the receiver takes 3 s to answer: the delivery finishes, exit 0 within 10 s', async (t) => {
  await answering(`${base}/health`)
  receiver.answer = async () => { await sleep(3000); return 204 }
  const ticket = await confirmed(base, 'owner-slow')
  await receiver.waitFor(1, (d) => d.body.includes(ticket.uploadId))
  const { seconds, exitCode } = await dockerStop()
  t.equal(exitCode, '0', 'exit code 0 (not 137: no SIGKILL)')
  t.ok(seconds < DOCKER_STOP_SECONDS, `stopped by itself in ${seconds.toFixed(1)} s`)
  t.match(await logs(id), /"msg":"webhook delivered"/, 'the delivery in flight was answered and recorded before the exit')
})

t.test('SIGTERM while the receiver never answers: the delivery is released, exit 0 within 10 s, sent at the next start', async (t) => {
  const held: Array<() => void> = []
  receiver.answer = async () => await new Promise<number>((resolve) => { held.push(() => resolve(204)) })
  t.teardown(() => { for (const release of held) release() })
  await docker('start', id)
  await answering(`${base}/health`)
  const ticket = await confirmed(base, 'owner-hung')
  const [first] = await receiver.waitFor(1, (d) => d.body.includes(ticket.uploadId))
  const { seconds, exitCode } = await dockerStop()
  t.equal(exitCode, '0', 'exit code 0 (not 137: no SIGKILL)')
  t.ok(seconds < DOCKER_STOP_SECONDS, `stopped by itself in ${seconds.toFixed(1)} s`)
  t.match(await logs(id), /returning them to the queue/, 'the delivery in flight was given back to the queue')

  receiver.answer = () => 204
  await docker('start', id)
  const again = await receiver.waitFor(2, (d) => d.id === first!.id, 30_000)
  t.equal(again.length, 2, 'the next start sends the same event (same webhook-id) at once')
  t.equal(receiver.deliveries.filter((d) => d.body.includes('owner-slow')).length, 1, 'the finished delivery is not sent again')
})
