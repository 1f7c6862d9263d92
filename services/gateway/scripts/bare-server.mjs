// Baseline of the throughput check: Fastify with the gateway's routes and body limits, parsing JSON
// and answering 202, and nothing else (no validation, auth, metrics or Kafka).
import Fastify from 'fastify'

const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 })
app.post('/v1/ingest', async (req, reply) =>
  reply.code(202).send({ type: 'meterId' in req.body ? 'meter' : 'vehicle' }),
)
app.post('/v1/ingest/batch', async (req, reply) =>
  reply.code(202).send({ accepted: req.body.length, rejected: [] }),
)
app.get('/health/ready', async () => ({ status: 'ready' }))
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)))
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
