// Development: the published images, served from uploads/profile/ by @fastify/static (staged uploads live elsewhere
// and are never served). Only generated file names are served: every path goes through the one safe-path function.
// @fastify/static follows symbolic links, so a request reaches it only for a regular file of the folder: a link
// placed there never serves what it points at. (The service never makes links; swapping one in between the check
// and the read takes write access to the folder, which already gives its files.)
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'
import { fileStat, safePath } from '../objects/safe-path.js'

const localFiles: FastifyPluginAsync<{ root: string }> = async (app, { root }) => {
  app.addHook('onRequest', async (req, reply) => {
    const path = safePath(root, (req.params as { '*'?: string })['*'] ?? '')
    if (path === undefined || await fileStat(path) === undefined) return reply.callNotFound()
  })
  await app.register(fastifyStatic, {
    root,
    prefix: '/uploads/profile/',
    index: false,
    list: false,
    dotfiles: 'deny',
    decorateReply: false,
    allowedPath: (pathName) => safePath(root, pathName.replace(/^\//, '')) !== undefined,
    // As on S3 (s3.ts): a key is never reused.
    maxAge: '365d',
    immutable: true,
    setHeaders: (res) => {
      res.header('x-content-type-options', 'nosniff')
      res.header('content-security-policy', "default-src 'none'; sandbox")
      res.header('cross-origin-resource-policy', 'cross-origin')
    }
  })
}
export default localFiles
