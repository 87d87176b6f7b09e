// `docker compose up -d` with the defaults (development mode, volumes for uploads and data) turns healthy by the
// image's HEALTHCHECK and answers; `docker compose down -v` leaves none of its containers or volumes behind. The
// image is the one the run built (IMAGE_SERVICE_IMAGE), so Compose does not build it again. A variable the compose
// file does not list reaches the service from the .env file.
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { docker, testImage } from '../helpers/docker.js'
import { freePort } from '../helpers/webhook-receiver.js'

const exec = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')
const project = `image-service-test-${process.env.DOCKER_TEST_RUN ?? process.pid}`
const port = await freePort()
const base = `http://127.0.0.1:${port}`

// A .env file with a variable the compose file does not list: it must reach the service all the same.
const envFile = join(mkdtempSync(join(tmpdir(), 'image-service-compose-')), '.env')
writeFileSync(envFile, 'DEMO=false\n')

/** Compose with nothing from this shell: only the port (this machine is shared), the image and that .env file. */
async function compose (...args: string[]): Promise<string> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PORT: String(port), IMAGE_SERVICE_IMAGE: testImage(), IMAGE_SERVICE_ENV_FILE: envFile }
  const { stdout } = await exec('docker', ['compose', '--project-directory', ROOT, '--env-file', '/dev/null', '-p', project, ...args], { env })
  return stdout.trim()
}
const leftovers = async () => [
  ...(await docker('ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`)).split('\n'),
  ...(await docker('volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`)).split('\n')
].filter((s) => s !== '')
t.teardown(async () => { await compose('down', '-v', '--remove-orphans') })

t.test('docker compose up -d with the defaults turns healthy', async (t) => {
  await compose('up', '-d', '--wait', '--wait-timeout', '120')
  const [backend] = (await compose('ps', '--format', '{{.Service}} {{.Health}}')).split('\n')
  t.equal(backend, 'backend healthy', 'the backend is healthy by the image\'s HEALTHCHECK')
  const ready = await fetch(`${base}/ready`)
  t.equal(ready.status, 200, `GET /ready answers 200 on the published port ${port}`)
  t.match(await ready.json(), { status: 'ok' }, 'storage (uploads volume) and database (data volume) reachable')
  t.equal((await fetch(`${base}/demo`)).status, 404, 'DEMO=false from the .env file reached the service (the demo is on by default in development)')
})

t.test('docker compose down -v removes its containers and volumes', async (t) => {
  t.ok((await leftovers()).length > 0, 'the project had a container and volumes')
  await compose('down', '-v')
  t.same(await leftovers(), [], 'none left')
})
