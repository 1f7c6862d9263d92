import type { FastifyPluginAsync } from 'fastify'
import { assessReplica, readReplicaFacts } from '../queries/replica-status.js'

/**
 * /health/live: the process answers. /health/ready: the replica answers, is a replica (unless
 * ANALYTICS_ALLOW_PRIMARY), and its replayed writer heartbeat is younger than the configured limit.
 * Lag is exported as a metric.
 */
const healthRoutes: FastifyPluginAsync<{ allowPrimary: boolean; maxLagS: number }> = async (app, opts) => {
  app.get('/health/live', { schema: { hide: true } }, async () => ({ status: 'ok' }))
  // Probes that arrive together share one check on the probe's own connection.
  let inFlight: Promise<{ code: number; body: object }> | undefined
  const check = async (): Promise<{ code: number; body: object }> => {
    try {
      const facts = await readReplicaFacts(app.replicaProbe)
      const { lagS, problems } = assessReplica(facts, opts)
      if (lagS !== null) app.analyticsMetrics.replicaLagSeconds.set(lagS)
      const body = {
        status: problems.length === 0 ? 'ok' : 'unavailable',
        replica: facts.recovery,
        replicationLagSeconds: lagS,
        walReceiver: facts.recovery ? facts.walReceiver : null,
        problems,
      }
      return { code: problems.length === 0 ? 200 : 503, body }
    } catch (err) {
      return { code: 503, body: { status: 'unavailable', problems: [`database: ${(err as Error).message}`] } }
    }
  }
  app.get('/health/ready', { schema: { hide: true } }, async (_req, reply) => {
    inFlight ??= check().finally(() => {
      inFlight = undefined
    })
    const { code, body } = await inFlight
    return reply.code(code).send(body)
  })
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    return reply
      .type(app.analyticsMetrics.registry.contentType)
      .send(await app.analyticsMetrics.registry.metrics())
  })
}

export default healthRoutes
