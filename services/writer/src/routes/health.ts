import type { FastifyInstance } from 'fastify'

export interface HealthOptions {
  /** Consumer in the group, database reachable. */
  readiness: () => Promise<{ ready: boolean; checks: Record<string, string> }>
}

export default async function healthRoutes(app: FastifyInstance, opts: HealthOptions) {
  app.get('/health/live', { logLevel: 'warn' }, async () => ({ status: 'ok' }))
  app.get('/health/ready', { logLevel: 'warn' }, async (_req, reply) => {
    const { ready, checks } = await opts.readiness()
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks })
  })
}
