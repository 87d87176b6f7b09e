// Real containers for test/docker/ (run by `npm run test:docker`, which builds the image and passes its tag in
// DOCKER_TEST_IMAGE). Everything a test creates carries the run's label, so the script removes it even when a test
// process dies; each test also removes its own when it ends.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { Test } from 'tap'
import { eventually } from './wait.js'

const exec = promisify(execFile)

/** The image under test; only set by scripts/test-docker.sh. */
export function testImage (): string {
  const image = process.env.DOCKER_TEST_IMAGE
  if (image === undefined || image === '') throw new Error('DOCKER_TEST_IMAGE is unset: run these tests with `npm run test:docker`')
  return image
}

/** `docker label=value` marking what this run made (scripts/test-docker.sh removes everything with it). */
export const RUN_LABEL = `image-service-test=${process.env.DOCKER_TEST_RUN ?? 'manual'}`

export async function docker (...args: string[]): Promise<string> {
  const { stdout } = await exec('docker', args, { maxBuffer: 16 * 1024 * 1024 })
  return stdout.trim()
}

/** A named volume, removed when `t` ends. */
export async function volume (t: Test): Promise<string> {
  const name = await docker('volume', 'create', '--label', RUN_LABEL)
  t.teardown(async () => { await docker('volume', 'rm', '-f', name) })
  return name
}

/** Starts a container of the image under test (`args` go before the image), removed when `t` ends. */
export async function container (t: Test, args: string[]): Promise<string> {
  const id = await docker('run', '-d', '--label', RUN_LABEL, ...args, testImage())
  t.teardown(async () => { await docker('rm', '-f', '-v', id) })
  return id
}

export async function inspect (id: string, format: string): Promise<string> {
  return await docker('inspect', '--format', format, id)
}

/** Waits for the container's HEALTHCHECK to report `healthy`; fails at once if it reports `unhealthy` or exits. */
export async function healthy (id: string, timeoutMs = 90_000): Promise<void> {
  await eventually(async () => {
    const [running, health] = (await inspect(id, '{{.State.Running}} {{if .State.Health}}{{.State.Health.Status}}{{end}}')).split(' ')
    if (running !== 'true') throw new Error(`the container exited: ${await logs(id)}`)
    if (health === 'unhealthy') throw new Error(`the container is unhealthy: ${await logs(id)}`)
    return health === 'healthy' ? true : undefined
  }, { timeoutMs, intervalMs: 500, what: 'the container\'s HEALTHCHECK to say healthy' })
}

/** Waits until `url` answers 2xx (the service listens). */
export async function answering (url: string, timeoutMs = 30_000): Promise<void> {
  await eventually(async () => (await fetch(url).then((r) => r.ok, () => false)) || undefined, { timeoutMs, intervalMs: 200, what: `${url} to answer` })
}

export async function logs (id: string): Promise<string> {
  const { stdout, stderr } = await exec('docker', ['logs', id], { maxBuffer: 16 * 1024 * 1024 })
  return stdout + stderr
}
