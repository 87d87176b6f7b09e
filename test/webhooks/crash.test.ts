// kill -9 after a confirmation committed, while the receiver is down: the restarted service delivers the event.
// The service runs as a real child process (node --import tsx src/server.ts) on its own data folder.
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { listen, scratch, TOKEN } from '../helpers/build.js'
import { startServer } from '../helpers/server-process.js'
import { confirmed, listEvents } from '../helpers/upload-flow.js'
import { eventually } from '../helpers/wait.js'
import { freePort, startReceiver, WEBHOOK_SECRET, webhookEnv } from '../helpers/webhook-receiver.js'

t.test('SIGKILL between commit and delivery: the event is delivered after restart', async (t) => {
  const [port, receiverPort] = [await freePort(), await freePort()]
  const env = {
    ENVIRONMENT: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: scratch(t),
    UPLOADS_DIR: scratch(t),
    SERVICE_TOKENS: TOKEN,
    SWEEP_INTERVAL_SECONDS: '0',
    LOG_LEVEL: 'warn',
    // Nothing listens there yet: every attempt fails until the receiver starts.
    ...webhookEnv(`http://127.0.0.1:${receiverPort}/hooks/images`, { WEBHOOK_MAX_ATTEMPTS: '1000', WEBHOOK_TIMEOUT_MS: '1000' })
  }

  const first = await startServer(t, env)
  const ticket = await confirmed(first.base, 'owner-crash')
  first.child.kill('SIGKILL')
  const [, signal] = await first.exited
  t.equal(signal, 'SIGKILL')

  const receiver = await startReceiver(t, { port: receiverPort })
  const second = await startServer(t, env)
  const [delivery] = await receiver.waitFor(1)
  t.match(new Webhook(WEBHOOK_SECRET).verify(delivery?.body ?? '', delivery?.headers ?? {}), { type: 'image.confirmed', data: { uploadId: ticket.uploadId, ownerId: 'owner-crash', url: ticket.publicUrl } }, 'the signature verifies')

  const event = await eventually(async () => (await listEvents(second.base, 'delivered')).find((e) => e.uploadId === ticket.uploadId), { what: 'the event recorded as delivered' })
  t.equal(event.id, delivery?.id, 'the webhook-id is the stored event id')

  second.child.kill('SIGTERM')
  const [code] = await second.exited
  t.equal(code, 0, 'SIGTERM closes gracefully')
})

t.test('an event claimed by a process that died is delivered once its lease lapses', async (t) => {
  const dirs = { DATA_DIR: scratch(t), UPLOADS_DIR: scratch(t) }
  const first = await listen(t, dirs)
  const ticket = await confirmed(first.base, 'owner-lease')
  // What a dispatcher that crashed mid-delivery leaves behind: a pending event with a live lease.
  const [claimed] = await first.app.records.claimEvents(new Date(), 10, 300)
  t.ok(claimed?.leaseUntil)
  await first.app.close()

  const receiver = await startReceiver(t)
  const second = await listen(t, { ...dirs, ...webhookEnv(receiver.url) })
  const [delivery] = await receiver.waitFor(1)
  t.equal(delivery?.id, claimed?.id)
  t.match(JSON.parse(delivery?.body ?? '{}'), { data: { uploadId: ticket.uploadId } })
  const event = await eventually(async () => (await listEvents(second.base, 'delivered')).find((e) => e.id === claimed?.id), { what: 'delivered' })
  t.equal(event.attempts, 1)
})
