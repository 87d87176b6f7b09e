// Redis for the rate-limit tests: the machine's shared one (127.0.0.1:6379, never stopped: every test uses a key
// prefix of its own), or a redis-server of the test's own on a free port, which the test may kill and start again.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { connect } from 'node:net'
import type { Test } from 'tap'
import { eventually } from './wait.js'
import { freePort } from './webhook-receiver.js'

export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379'

/** A key prefix no other test uses. */
export const keyPrefix = () => `image-service-test:${randomUUID()}:`

/** Whether a Redis answers PING at host:port. */
export async function redisAnswers (port: number, host = '127.0.0.1'): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect(port, host)
    const done = (ok: boolean) => { socket.destroy(); resolve(ok) }
    socket.setTimeout(1000, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (d: Buffer) => done(d.toString().startsWith('+PONG')))
  })
}

/** Why Redis tests cannot run here, or undefined. */
export async function sharedRedisMissing (): Promise<string | undefined> {
  return await redisAnswers(6379) ? undefined : 'no Redis answers at 127.0.0.1:6379'
}

export function redisServerMissing (): string | undefined {
  return spawnSync('redis-server', ['--version']).status === 0 ? undefined : 'redis-server is not installed'
}

export interface OwnRedis {
  port: number
  url: string
  /** SIGKILL: an outage as abrupt as a crash. */
  kill (): Promise<void>
  /** Starts it again on the same port (empty: nothing is saved). */
  start (): Promise<void>
}

/** A redis-server of this test's own on a free port, killed when the test ends. */
export async function ownRedis (t: Test): Promise<OwnRedis> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const kill = async () => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' })
    await eventually(async () => (await redisAnswers(port)) || undefined, { timeoutMs: 10_000, intervalMs: 20, what: `redis-server on port ${port}` })
  }
  t.teardown(kill)
  await start()
  return { port, url: `redis://127.0.0.1:${port}`, kill, start }
}
