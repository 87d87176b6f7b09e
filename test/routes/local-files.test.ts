// Development files: only regular files inside the uploads folder are served or read. A symlink placed there (to a
// file or a folder outside) is refused, never followed (issue 16, item 12).
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { listen, scratch } from '../helpers/build.js'
import { png } from '../helpers/images.js'
import { complete, confirmed, createTicket } from '../helpers/upload-flow.js'

const SECRET = 'outside-secret-3b1f'

t.test('symlinks under uploads/profile/ are not served', async (t) => {
  const { app, base } = await listen(t)
  const outside = scratch(t, 'image-service-outside-')
  writeFileSync(join(outside, 'secret.png'), SECRET)
  mkdirSync(join(outside, 'folder'))
  writeFileSync(join(outside, 'folder', 'inner.png'), SECRET)
  const profile = join(app.config.upload.dir, 'profile')
  symlinkSync(join(outside, 'secret.png'), join(profile, 'linked.png'))
  symlinkSync(join(outside, 'folder'), join(profile, 'folder.png'))
  symlinkSync(join(outside, 'folder'), join(profile, 'dir'))

  for (const path of ['linked.png', 'folder.png', 'dir/inner.png', 'folder.png/inner.png']) {
    for (const method of ['GET', 'HEAD']) {
      const res = await fetch(`${base}/uploads/profile/${path}`, { method })
      const body = await res.text()
      t.equal(res.status, 404, `${method} ${path} → 404`)
      t.notMatch(body, SECRET, 'never the outside content')
    }
  }

  const image = await confirmed(base, 'owner-links')
  const served = await fetch(image.publicUrl)
  t.equal(served.status, 200, 'a published image is still served')
  t.equal(served.headers.get('content-type'), 'image/png')
  t.equal(served.headers.get('x-content-type-options'), 'nosniff')
  const size = String((await served.arrayBuffer()).byteLength)
  t.equal(served.headers.get('content-length'), size)
  const etag = served.headers.get('etag') ?? ''
  // fetch adds Cache-Control: no-cache to a conditional request (the Fetch standard) unless one is given.
  t.equal((await fetch(image.publicUrl, { headers: { 'if-none-match': etag, 'cache-control': 'max-age=0' } })).status, 304, 'conditional GETs still answer 304')
  const head = await fetch(image.publicUrl, { method: 'HEAD' })
  t.equal(head.status, 200, 'and HEAD 200')
  t.equal(head.headers.get('content-length'), size, 'with the size')
})

t.test('a symlink at a staging key is not an upload: completion never reads through it', async (t) => {
  const { app, base } = await listen(t)
  const outside = scratch(t, 'image-service-outside-')
  // A real image outside the folder: followed, it would be published as the upload.
  writeFileSync(join(outside, 'elsewhere.png'), png(4, 4))
  const ticket = await createTicket(base, 'owner-links')
  const staging = join(app.config.upload.dir, '.staging', ticket.key.split('/').pop() ?? '')
  symlinkSync(join(outside, 'elsewhere.png'), staging)
  const res = await complete(base, ticket.uploadId)
  t.equal(res.status, 409, 'nothing uploaded')
  t.equal((await fetch(ticket.publicUrl)).status, 404, 'nothing published')
})
