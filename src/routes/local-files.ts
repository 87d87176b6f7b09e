// Development: the published images, served from uploads/profile/ (staged uploads live elsewhere and are never
// served). Only generated file names of the image formats are served, only when they are regular files: every
// path goes through the one safe-path function, and a file is opened without following a symbolic link, so a link
// placed in the folder never serves what it points at (a check before opening would leave a moment to swap one in).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { openFile, safePath } from '../objects/safe-path.js'
import { FORMATS } from '../uploads/formats.js'

const typeOfExtension = new Map(FORMATS.map((f) => [f.extension, f.contentType]))

const localFiles: FastifyPluginAsync<{ root: string }> = async (app, { root }) => {
  async function serve (req: FastifyRequest<{ Params: { filename: string } }>, reply: FastifyReply) {
    const { filename } = req.params
    const type = typeOfExtension.get(filename.slice(filename.lastIndexOf('.') + 1))
    const path = safePath(root, filename)
    const file = type === undefined || path === undefined ? undefined : await openFile(path)
    if (file === undefined) return reply.callNotFound()
    const { handle, stat } = file
    const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`
    reply.headers({
      'content-type': type,
      'content-length': stat.size,
      etag,
      'last-modified': stat.mtime.toUTCString(),
      // As on S3 (s3.ts): a key is never reused.
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'cross-origin-resource-policy': 'cross-origin'
    })
    const notModified = req.headers['if-none-match']?.split(/\s*,\s*/).includes(etag) === true
    if (notModified || req.method === 'HEAD') {
      await handle.close()
      if (notModified) reply.removeHeader('content-length')
      return reply.code(notModified ? 304 : 200).send()
    }
    // The stream closes the handle when it ends or is destroyed (a client gone mid-way).
    return reply.send(handle.createReadStream())
  }
  // Documented by hand in openapi.ts (a binary answer). HEAD is its own method here: Fastify's HEAD twin of a GET
  // would read the whole file to drop it, and answer a length of 0 without it.
  app.route({ method: ['GET', 'HEAD'], url: '/uploads/profile/:filename', schema: { hide: true }, handler: serve })
}
export default localFiles
