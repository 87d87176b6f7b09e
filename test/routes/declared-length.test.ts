// A ticket that declares contentLength allows exactly that many bytes: the policy's content-length-range is
// [contentLength, contentLength] (both modes sign it with formConditions), the development endpoint enforces it, and
// completion checks the stored size against it (issue 16, item 5).
import t from 'tap'
import { formConditions } from '../../src/objects/post-policy.js'
import { AUTH, listen } from '../helpers/build.js'
import { postForm } from '../helpers/form.js'
import { png, pngOfSize } from '../helpers/images.js'

interface Ticket { uploadId: string, key: string, maxBytes: number, upload: { url: string, fields: Record<string, string> } }

t.test('formConditions: [1, max] without a declared size, [n, n] with one', async (t) => {
  t.same(formConditions('image/png', 5000).conditions, [['content-length-range', 1, 5000]])
  t.same(formConditions('image/png', 100, 100).conditions, [['content-length-range', 100, 100]])
  t.same(formConditions('image/png', 5000).conditions, [['content-length-range', 1, 5000]], 'not confused with the previous one')
})

t.test('development: a ticket for n bytes takes n bytes, not more, not fewer', async (t) => {
  const { app, base } = await listen(t)
  const image = png(8, 8)
  const ticket = async (contentLength: number) => {
    const res = await fetch(`${base}/v1/uploads`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ ownerId: 'user-1', contentType: 'image/png', contentLength }) })
    t.equal(res.status, 201)
    return await res.json() as Ticket
  }
  const a = await ticket(image.length)
  t.equal(a.maxBytes, image.length, 'maxBytes: the declared size')
  const refused = await postForm(a.upload, pngOfSize(1 << 20), 'image/png')
  t.equal(refused.status, 400, '1 MiB on a ticket for fewer bytes: refused')
  t.match(await refused.text(), /<Code>EntityTooLarge<\/Code>/)
  const short = await postForm(a.upload, image.subarray(0, image.length - 1), 'image/png')
  t.equal(short.status, 400, 'one byte short: refused')
  t.match(await short.text(), /<Code>EntityTooSmall<\/Code>/)
  t.equal((await fetch(`${base}/v1/uploads/${a.uploadId}/complete`, { method: 'POST' })).status, 409, 'nothing was stored')
  t.equal((await postForm(a.upload, image, 'image/png')).status, 201, 'exactly the declared size: 201')
  t.equal((await fetch(`${base}/v1/uploads/${a.uploadId}/complete`, { method: 'POST' })).status, 200)

  // Bytes that reached the staging key some other way (an older ticket's form, an operator): completion checks too.
  const b = await ticket(image.length + 10)
  await app.objects.put(app.objects.uploadedKey(b.key), image, 'image/png')
  const res = await fetch(`${base}/v1/uploads/${b.uploadId}/complete`, { method: 'POST' })
  t.equal(res.status, 422)
  t.match(await res.json(), { code: 'SIZE_OUT_OF_RANGE', message: new RegExp(`${image.length} bytes; the ticket declared exactly ${image.length + 10}`) })
})
