import fp from 'fastify-plugin'
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface AnalyticsMetrics {
  registry: Registry
  requestSeconds: Histogram<'route' | 'method' | 'status'>
  replicaLagSeconds: Gauge
}

declare module 'fastify' {
  interface FastifyInstance {
    analyticsMetrics: AnalyticsMetrics
  }
  interface FastifyRequest {
    analyticsStartedAt?: bigint
  }
}

/** Request latency by route, and the replica's lag (set by the readiness check). One registry per app. */
export default fp(
  async function metrics(app, opts: { processMetrics: boolean }) {
    const registry = new Registry()
    if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'analytics_' })
    const requestSeconds = new Histogram({
      name: 'analytics_request_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    })
    const replicaLagSeconds = new Gauge({
      name: 'analytics_replica_lag_seconds',
      help: 'Age of the replayed writer heartbeat on the replica at the last readiness check',
      registers: [registry],
    })
    app.decorate('analyticsMetrics', { registry, requestSeconds, replicaLagSeconds })
    app.addHook('onRequest', async (req) => {
      req.analyticsStartedAt = process.hrtime.bigint()
    })
    app.addHook('onResponse', async (req, reply) => {
      if (req.analyticsStartedAt === undefined) return
      const seconds = Number(process.hrtime.bigint() - req.analyticsStartedAt) / 1e9
      requestSeconds.observe(
        { route: req.routeOptions.url ?? 'unmatched', method: req.method, status: String(reply.statusCode) },
        seconds,
      )
    })
  },
  { name: 'metrics', fastify: '5.x' },
)
