// The ceiling for development uploads: a bare @fastify/multipart route that streams the file part to disk
// (BENCH_DIR) with no checks.
import multipart from '@fastify/multipart'
import Fastify from 'fastify'
import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'

const dir = process.env.BENCH_DIR ?? '.'
const app = Fastify()
await app.register(multipart, { limits: { fileSize: 16 * 1024 * 1024 } })
app.post('/uploads', async (req, reply) => {
  for await (const part of req.parts()) {
    if (part.type === 'file') await pipeline(part.file, createWriteStream(join(dir, randomUUID())))
  }
  return await reply.code(201).send({ ok: true })
})
app.get('/ready', async () => ({ status: 'ok' }))
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
