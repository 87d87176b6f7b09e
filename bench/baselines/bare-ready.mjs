// The ceiling for cold start: a bare Fastify app whose /ready answers 200.
import Fastify from 'fastify'

const app = Fastify()
app.get('/ready', async () => ({ status: 'ok' }))
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
