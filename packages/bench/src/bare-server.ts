// The baseline of the gateway bench: Fastify with the same routes, body limits and answers as the
// gateway, and nothing else (no validation, no auth, no Kafka). Run as its own process, like the
// gateway, so both pay the same process and socket costs: PORT=… node dist/bare-server.js
import Fastify from 'fastify'

const port = Number(process.env.PORT ?? 0)
const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 })

app.post('/v1/ingest', async (req, reply) => {
  const body = req.body as Record<string, unknown>
  return reply.code(202).send({ type: 'meterId' in body ? 'meter' : 'vehicle' })
})
app.post('/v1/ingest/batch', async (req, reply) => {
  const body = req.body as unknown[]
  return reply.code(202).send({ accepted: body.length, rejected: [] })
})
app.get('/health/ready', async () => ({ status: 'ok' }))

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)))
}
await app.listen({ host: '127.0.0.1', port })
