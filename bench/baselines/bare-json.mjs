// The ceiling for POST /v1/uploads: a bare Fastify POST route that parses the same JSON body and answers 201
// with a static JSON body of a real ticket's size (BENCH_BODY, taken from the service in the same run).
import Fastify from 'fastify'

const body = JSON.parse(process.env.BENCH_BODY ?? '{}')
const app = Fastify()
app.post('/v1/uploads', async (req, reply) => {
  reply.code(201)
  return body
})
app.get('/ready', async () => ({ status: 'ok' }))
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
