// Development: the published images, served from uploads/profile/ (staged uploads live elsewhere and are never
// served). Only generated file names are served: every path goes through the one safe-path function.
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'
import { safePath } from '../objects/safe-path.js'

const localFiles: FastifyPluginAsync<{ root: string }> = async (app, { root }) => {
  await app.register(fastifyStatic, {
    root,
    prefix: '/uploads/profile/',
    index: false,
    list: false,
    dotfiles: 'deny',
    decorateReply: false,
    allowedPath: (pathName) => safePath(root, pathName.replace(/^\//, '')) !== undefined,
    setHeaders: (res) => {
      res.header('x-content-type-options', 'nosniff')
      res.header('content-security-policy', "default-src 'none'; sandbox")
      res.header('cross-origin-resource-policy', 'cross-origin')
    }
  })
}
export default localFiles
