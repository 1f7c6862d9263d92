import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'

export default async function metricsRoutes(app: FastifyInstance, opts: { registry: Registry }) {
  app.get('/metrics', { logLevel: 'warn' }, async (_req, reply) => {
    reply.header('content-type', opts.registry.contentType)
    return opts.registry.metrics()
  })
}
