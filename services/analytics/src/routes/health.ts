import type { FastifyPluginAsync } from 'fastify'

/**
 * /health/live: the process answers. /health/ready: the replica answers, is a replica (unless
 * ANALYTICS_ALLOW_PRIMARY), and lags less than the configured limit. Lag is exported as a metric.
 */
const healthRoutes: FastifyPluginAsync<{ allowPrimary: boolean; maxLagS: number }> = async (app, opts) => {
  app.get('/health/live', { schema: { hide: true } }, async () => ({ status: 'ok' }))
  // Probes that arrive together share one check on the probe's own connection.
  let inFlight: Promise<{ code: number; body: object }> | undefined
  const check = async (): Promise<{ code: number; body: object }> => {
    try {
      const { rows } = await app.replicaProbe.query<{
        recovery: boolean
        lag: number | null
        replayed: boolean
      }>(
        `SELECT pg_is_in_recovery() AS recovery,
                -- No WAL waiting to be replayed means no lag, however old the last commit is.
                CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                     ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS lag,
                true AS replayed`,
      )
      const { recovery, lag } = rows[0]!
      if (lag !== null) app.analyticsMetrics.replicaLagSeconds.set(lag)
      const problems: string[] = []
      if (!recovery && !opts.allowPrimary) problems.push('connected server is not a read replica')
      if (lag !== null && lag > opts.maxLagS)
        problems.push(`replication lag ${lag.toFixed(1)} s > ${opts.maxLagS} s`)
      const body = {
        status: problems.length === 0 ? 'ok' : 'unavailable',
        replica: recovery,
        replicationLagSeconds: lag,
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
