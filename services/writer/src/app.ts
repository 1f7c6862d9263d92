import {
  defineErrors,
  errorHandler,
  health,
  metrics,
  type Prometheus,
  type ReadinessCheck,
} from '@energy-ingest/service-kit'
import Fastify from 'fastify'
import type { Logger } from 'pino'

const { NotFound } = defineErrors('WRITER', { NotFound: ['NOT_FOUND', 404, 'route %s %s does not exist'] })

export interface AppDeps {
  logger: Logger
  /** The writer's metrics registry: the consumer's metrics live on it too. */
  prometheus: Prometheus
  /** Named readiness checks (the consumer in its group, the database answering). */
  checks: Record<string, ReadinessCheck>
  /** A check that has not answered by then fails. */
  readyTimeoutMs: number
}

/**
 * The writer's HTTP side, built like the other services' apps but with no API: /health/live,
 * /health/ready and /metrics. The consumer itself is createWriter's; this app does not listen.
 */
export async function buildApp(deps: AppDeps) {
  const app = Fastify({ loggerInstance: deps.logger.child({ component: 'http' }) })
  await app.register(metrics, { service: 'writer', processMetrics: true, prometheus: deps.prometheus })
  await app.register(errorHandler, {
    prefix: 'WRITER_',
    badRequestCode: 'WRITER_BAD_REQUEST',
    notFound: (method, path) => new NotFound(method, path),
  })
  await app.register(health, { checks: deps.checks, timeoutMs: deps.readyTimeoutMs })
  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
