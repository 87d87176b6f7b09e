// The image as a user runs it: `docker run -p … -v uploads -v data` with no configuration (development mode). It
// turns healthy by its own HEALTHCHECK, serves the README's walk-through through the published port, runs as a
// user that is not root, and keeps what it writes in the two volumes.
import t from 'tap'
import { container, docker, healthy, inspect, RUN_LABEL, testImage, volume } from '../helpers/docker.js'
import { postForm } from '../helpers/form.js'
import { png } from '../helpers/images.js'
import { freePort } from '../helpers/webhook-receiver.js'

const port = await freePort()
const base = `http://127.0.0.1:${port}`
const uploads = await volume(t)
const data = await volume(t)
const id = await container(t, ['-p', `127.0.0.1:${port}:3000`, '-e', `PUBLIC_BASE_URL=${base}`, '-v', `${uploads}:/app/uploads`, '-v', `${data}:/app/data`])

t.test('turns healthy by its own HEALTHCHECK', async (t) => {
  await healthy(id)
  t.pass('docker reports the container healthy')
})

t.test('runs as the unprivileged node user, not root', async (t) => {
  t.equal(await inspect(id, '{{.Config.User}}'), 'node', 'the image\'s USER is node')
  t.not(await docker('exec', id, 'id', '-u'), '0', 'the service\'s processes run with a uid other than 0')
})

let publishedFile = ''

t.test('the README walk-through through the published port: ticket → upload → complete → public URL', async (t) => {
  const ticketRes = await fetch(`${base}/v1/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ownerId: 'user-42', contentType: 'image/png' }) })
  t.equal(ticketRes.status, 201, '1. ticket issued')
  const ticket = await ticketRes.json() as { uploadId: string, publicUrl: string, upload: { url: string, fields: Record<string, string> } }
  t.equal(new URL(ticket.upload.url).origin, base, 'the form goes to the container, at the published address')
  t.equal((await postForm(ticket.upload, png(40, 30), 'image/png')).status, 201, '2. the form with the file is stored')
  const completed = await fetch(`${base}/v1/uploads/${ticket.uploadId}/complete`, { method: 'POST' })
  t.equal(completed.status, 200, '3. completion confirms')
  t.equal((await completed.json() as { url: string }).url, ticket.publicUrl, 'at the ticket\'s public URL')
  const image = await fetch(ticket.publicUrl)
  t.equal(image.status, 200, '4. the public URL serves the image')
  t.equal(image.headers.get('content-type'), 'image/png', 'as a PNG')
  publishedFile = new URL(ticket.publicUrl).pathname.split('/').pop()!
})

t.test('the uploads and data volumes are writable, and hold what the service wrote', async (t) => {
  for (const dir of ['/app/uploads', '/app/data']) {
    t.equal(await docker('exec', id, 'sh', '-c', `test -w ${dir} && echo writable`), 'writable', `${dir} is writable by the service's user`)
  }
  // Read through another container: what is there lives in the volumes, not in this container's layer.
  const inVolume = async (volumeName: string, dir: string) =>
    (await docker('run', '--rm', '--label', RUN_LABEL, '--entrypoint', 'ls', '-v', `${volumeName}:/v`, testImage(), `/v${dir}`)).split('\n')
  t.ok((await inVolume(uploads, '/profile')).includes(publishedFile), 'the published image is in the uploads volume')
  t.ok((await inVolume(data, '')).includes('image-service.sqlite'), 'the SQLite file is in the data volume')
})
