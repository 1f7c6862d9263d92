import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { HealthSchema } from '../schemas.js'

/** Liveness (the process answers) and readiness (Kafka can take readings now). No auth. */
export default async function healthRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['health']
  app.get('/health/live', { schema: { tags, response: { 200: HealthSchema } } }, async () => ({
    status: 'ok',
  }))
  app.get(
    '/health/ready',
    { schema: { tags, response: { 200: HealthSchema, 503: HealthSchema } } },
    async (_req, reply) => {
      const { ready, reason } = app.kafka.readiness()
      if (ready) return { status: 'ready' }
      return reply.code(503).send({ status: 'not ready', reason })
    },
  )
}
