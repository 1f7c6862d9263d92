import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/**
 * The Prometheus side of a service. Every name is `<service>_<what>_<unit>` in base units (seconds,
 * bytes), counters end in `_total`; the process metrics carry the same prefix.
 */
export interface Prometheus {
  /** This app's registry (never prom-client's global one: apps built side by side in tests don't clash). */
  registry: Registry
  /** `<service>_<suffix>`: the name of a metric of this service. */
  name(suffix: string): string
  /** HTTP requests by route pattern, method and status code. */
  httpRequestDuration: Histogram<'route' | 'method' | 'status_code'>
  /** Requests answered with an error body, by route pattern and error code. */
  httpRequestsFailed: Counter<'route' | 'code'>
}

export interface MetricsOptions {
  /** The service's name: the prefix of every metric (`gateway`, `writer`, `analytics`). */
  service: string
  /** Export process and Node.js runtime metrics (`<service>_process_cpu_seconds_total`, …). */
  processMetrics: boolean
  /** A registry built beforehand with createPrometheus (a service whose other parts need it first). */
  prometheus?: Prometheus
}

declare module 'fastify' {
  interface FastifyInstance {
    prometheus: Prometheus
  }
  interface FastifyRequest {
    metricsStartedAt?: bigint
  }
}

const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/** Builds the registry and the HTTP metrics every service shares (no Fastify needed). */
export function createPrometheus(opts: MetricsOptions): Prometheus {
  const registry = new Registry()
  const name = (suffix: string) => `${opts.service}_${suffix}`
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: `${opts.service}_` })
  const registers = [registry]
  return {
    registry,
    name,
    httpRequestDuration: new Histogram({
      name: name('http_request_duration_seconds'),
      help: 'HTTP request latency by route pattern, method and status code',
      labelNames: ['route', 'method', 'status_code'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    httpRequestsFailed: new Counter({
      name: name('http_requests_failed_total'),
      help: 'Requests answered with an error body, by route pattern and error code',
      labelNames: ['route', 'code'],
      registers,
    }),
  }
}

/**
 * One registry per app, the HTTP metrics, and GET /metrics (Prometheus text, no auth: keep it off
 * the public listener). Services add their own metrics to `app.prometheus.registry`.
 */
const metrics: FastifyPluginAsync<MetricsOptions> = async (app, opts) => {
  const prometheus = opts.prometheus ?? createPrometheus(opts)
  app.decorate('prometheus', prometheus)
  app.addHook('onRequest', async (req) => {
    req.metricsStartedAt = process.hrtime.bigint()
  })
  app.addHook('onResponse', async (req, reply) => {
    if (req.metricsStartedAt === undefined) return
    const seconds = Number(process.hrtime.bigint() - req.metricsStartedAt) / 1e9
    const route = req.routeOptions.url ?? 'unmatched'
    prometheus.httpRequestDuration.observe(
      { route, method: req.method, status_code: String(reply.statusCode) },
      seconds,
    )
  })
  app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_req, reply) => {
    return reply.type(prometheus.registry.contentType).send(await prometheus.registry.metrics())
  })
}

export default fp(metrics, { name: 'prometheus', fastify: '5.x' })
