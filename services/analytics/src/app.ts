import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyServerOptions } from 'fastify'
import { apiKeys, type Config } from './config.js'
import auth from './plugins/auth.js'
import dashboard from './plugins/dashboard.js'
import errorHandler from './plugins/error-handler.js'
import metrics from './plugins/metrics.js'
import openapi from './plugins/openapi.js'
import pgPool from './plugins/pg.js'
import baselineRoutes from './routes/baseline.js'
import exportRoutes from './routes/export.js'
import fleetRoutes from './routes/fleet.js'
import healthRoutes from './routes/health.js'
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
    // Query strings are strings: coerce "0.9" to 0.9, but never drop an unknown parameter.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true } },
    return503OnClosing: true,
    // A client that sends its request slowly, or stops reading, does not hold a socket for ever.
    requestTimeout: config.ANALYTICS_REQUEST_TIMEOUT_MS,
    connectionTimeout: config.ANALYTICS_CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: config.ANALYTICS_KEEP_ALIVE_TIMEOUT_MS,
  }).withTypeProvider<TypeBoxTypeProvider>()
  const windowOpts = { maxWindowDays: config.ANALYTICS_MAX_WINDOW_DAYS, now: overrides.now ?? Date.now }

  await app.register(metrics, { processMetrics: true })
  await app.register(errorHandler)
  await app.register(openapi)
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
  await app.register(healthRoutes, {
    allowPrimary: config.ANALYTICS_ALLOW_PRIMARY,
    maxLagS: config.ANALYTICS_MAX_REPLICA_LAG_S,
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
