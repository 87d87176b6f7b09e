// The whole development flow over real HTTP, as a browser and the main backend would drive it.
import sharp from 'sharp'
import t from 'tap'
import { AUTH, listen } from '../helpers/build.js'
import { postForm } from '../helpers/form.js'
import { png } from '../helpers/images.js'

t.test('create → form POST → complete → GET the public URL', async (t) => {
  const { base } = await listen(t)
  const image = png(16, 16)
  const created = await fetch(`${base}/v1/uploads`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ ownerId: 'user-1', contentType: 'image/png', contentLength: image.length })
  })
  t.equal(created.status, 201)
  const ticket = await created.json() as { uploadId: string, key: string, publicUrl: string, upload: { url: string, fields: Record<string, string> }, maxBytes: number }
  t.match(ticket.key, /^profile-images\/[0-9a-f]{32}\.png$/)
  t.equal(ticket.upload.url, `${base}/uploads`)
  t.equal(ticket.maxBytes, image.length, 'a declared contentLength is the exact size allowed')

  const early = await fetch(`${base}/v1/uploads/${ticket.uploadId}/complete`, { method: 'POST' })
  t.equal(early.status, 409, 'completion before upload')

  const posted = await postForm(ticket.upload, image, 'image/png')
  t.equal(posted.status, 201)
  t.equal((await fetch(ticket.publicUrl)).status, 404, 'nothing is served before completion')

  const done = await fetch(`${base}/v1/uploads/${ticket.uploadId}/complete`, { method: 'POST' })
  t.equal(done.status, 200)
  const confirmed = await done.json() as { url: string, size: number, status: string, variants: Array<{ size: number, url: string }> }
  t.match(confirmed, { uploadId: ticket.uploadId, status: 'confirmed', key: ticket.key, url: ticket.publicUrl, contentType: 'image/png', width: 16, height: 16, animated: false })
  t.same(confirmed.variants.map((v) => v.size), [64, 128, 256, 512], 'a variant per IMAGE_VARIANTS size')

  const again = await fetch(`${base}/v1/uploads/${ticket.uploadId}/complete`, { method: 'POST' })
  t.same(await again.json(), confirmed, 'completion is idempotent')

  const served = await fetch(confirmed.url)
  t.equal(served.status, 200)
  t.equal(served.headers.get('content-type'), 'image/png')
  t.equal(served.headers.get('x-content-type-options'), 'nosniff')
  const bytes = Buffer.from(await served.arrayBuffer())
  t.equal(bytes.length, confirmed.size, 'size: the published bytes')
  t.match(await sharp(bytes).metadata(), { format: 'png', width: 16, height: 16 }, 'a re-encoded PNG')

  const status = await fetch(`${base}/v1/uploads/${ticket.uploadId}`, { headers: AUTH })
  const record = await status.json() as { status: string, ownerId: string, size: number }
  t.equal(record.status, 'confirmed')
  t.equal(record.ownerId, 'user-1')

  const deleted = await fetch(`${base}/v1/uploads/${ticket.uploadId}`, { method: 'DELETE', headers: AUTH })
  t.equal(deleted.status, 204)
  t.equal((await fetch(confirmed.url)).status, 404, 'the file is gone after DELETE')
  for (const v of confirmed.variants) t.equal((await fetch(v.url)).status, 404, `and variant ${v.size}`)
})
