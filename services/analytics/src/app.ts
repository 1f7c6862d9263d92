import { errorHandler, health, metrics, openapi, validation } from '@energy-ingest/service-kit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyServerOptions } from 'fastify'
import { apiKeys, type Config } from './config.js'
import auth from './plugins/auth.js'
import { RouteNotFound } from './errors.js'
import dashboard from './plugins/dashboard.js'
import { errorPolicy } from './plugins/error-handler.js'
import { openapiOptions } from './plugins/openapi.js'
import pgPool from './plugins/pg.js'
import baselineRoutes from './routes/baseline.js'
import { replicaCheck } from './plugins/replica-check.js'
import exportRoutes from './routes/export.js'
import fleetRoutes from './routes/fleet.js'
import liveRoutes from './routes/live.js'
import performanceRoutes from './routes/performance.js'
import seriesRoutes from './routes/series.js'
import summaryRoutes from './routes/summaries.js'

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>): FastifyServerOptions['logger'] {
  return { level: config.LOG_LEVEL, redact: ['req.headers.authorization'] }
}

export interface AppOverrides {
  logger?: FastifyServerOptions['logger']
  /** The clock the default windows end at (epoch ms); tests pin it to a fixed instant. */
  now?: () => number
}

/** Builds the analytics service without listening: plugins first, then routes, in boot order. */
export async function buildApp(config: Config, overrides: AppOverrides = {}) {
  const app = Fastify({
    logger: overrides.logger ?? loggerOptions(config),
    return503OnClosing: true,
    // A client that sends its request slowly, or stops reading, does not hold a socket for ever.
    requestTimeout: config.ANALYTICS_REQUEST_TIMEOUT_MS,
    connectionTimeout: config.ANALYTICS_CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: config.ANALYTICS_KEEP_ALIVE_TIMEOUT_MS,
  }).withTypeProvider<TypeBoxTypeProvider>()
  const windowOpts = { maxWindowDays: config.ANALYTICS_MAX_WINDOW_DAYS, now: overrides.now ?? Date.now }

  // Query strings are strings: TypeBox's compiler converts "0.9" to 0.9 and never drops an unknown parameter.
  await app.register(validation)
  await app.register(metrics, { service: 'analytics', processMetrics: true })
  await app.register(errorHandler, {
    ...errorPolicy,
    notFound: (method, path) => new RouteNotFound(method, path),
  })
  await app.register(openapi, openapiOptions)
  await app.register(pgPool, {
    connectionString: config.ANALYTICS_DATABASE_URL,
    max: config.ANALYTICS_POOL_MAX,
    statementTimeoutMs: config.ANALYTICS_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: config.ANALYTICS_PG_CONNECT_TIMEOUT_MS,
    idleTimeoutMs: config.ANALYTICS_PG_IDLE_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.ANALYTICS_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    keepAliveMs: config.ANALYTICS_PG_KEEPALIVE_MS,
    probeTimeoutMs: config.ANALYTICS_HEALTH_TIMEOUT_MS,
  })
  await app.register(dashboard)
  // Readiness runs on the probe's own connection, whose connect and statement timeouts bound it first.
  await app.register(health, {
    timeoutMs: 2 * config.ANALYTICS_HEALTH_TIMEOUT_MS + 1000,
    checks: {
      replica: replicaCheck(app, {
        allowPrimary: config.ANALYTICS_ALLOW_PRIMARY,
        maxLagS: config.ANALYTICS_MAX_REPLICA_LAG_S,
      }),
    },
  })
  await app.register(
    async (v1) => {
      await v1.register(auth, { keys: apiKeys(config) })
      await v1.register(baselineRoutes)
      await v1.register(performanceRoutes, windowOpts)
      await v1.register(summaryRoutes, windowOpts)
      await v1.register(fleetRoutes, {
        ...windowOpts,
        threshold: config.ANALYTICS_ALERT_THRESHOLD,
        alertsCacheMs: config.ANALYTICS_ALERTS_CACHE_MS,
      })
      await v1.register(liveRoutes)
      await v1.register(seriesRoutes, { ...windowOpts, maxPoints: config.ANALYTICS_SERIES_MAX_POINTS })
      await v1.register(exportRoutes, {
        now: windowOpts.now,
        maxDays: config.ANALYTICS_EXPORT_MAX_DAYS,
        timeoutMs: config.ANALYTICS_EXPORT_TIMEOUT_MS,
        maxConcurrent: config.ANALYTICS_EXPORT_MAX_CONCURRENT,
      })
    },
    { prefix: '/v1' },
  )
  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
