import type { FastifyInstance } from 'fastify'

/** GET /metrics: Prometheus text of this app's registry. No auth; keep it off the public listener. */
export default async function metricsRoutes(app: FastifyInstance) {
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const { registry } = app.metrics
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}
