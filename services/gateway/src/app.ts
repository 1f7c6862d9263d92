import { topicNames, type TopicNames } from '@energy-ingest/contracts'
import { brokerList, errorHandler, health, metrics, openapi, validation } from '@energy-ingest/service-kit'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyPluginAsync, type FastifyServerOptions } from 'fastify'
import type { ServerOptions } from 'node:http'
import { fleetTokens, tokenSecret, type Config } from './config.js'
import auth from './plugins/auth.js'
import bodyParsers from './plugins/body-parsers.js'
import { NotFound } from './errors.js'
import { errorPolicy } from './plugins/error-handler.js'
import kafka from './plugins/kafka.js'
import gatewayMetrics from './plugins/metrics.js'
import { openapiOptions } from './plugins/openapi.js'
import publisher from './plugins/publisher.js'
import tokenRateLimit from './plugins/rate-limit.js'
import assignmentRoutes from './routes/assignments.js'
import batchRoutes from './routes/batch.js'
import ocppRoutes from './routes/ocpp.js'
import ingestRoutes from './routes/ingest.js'
import type { Clock, ReadingTimeOptions } from './time-rules.js'

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>): FastifyServerOptions['logger'] {
  return {
    level: config.LOG_LEVEL,
    // Tokens never reach a log line.
    redact: ['req.headers.authorization', 'INGEST_TOKEN_SECRET', 'INGEST_FLEET_TOKENS'],
  }
}

export interface AppOverrides {
  logger?: FastifyServerOptions['logger']
  /** The clock, in epoch ms (default Date.now): timestamp rules, receivedAt, rate-limit windows. */
  now?: Clock
}

/**
 * Timeouts of the HTTP server, so a slow or silent client cannot hold a connection for ever. Node
 * checks the headers and request timeouts every connectionsCheckingInterval (30 s by default, which
 * would let a 10 s headers timeout run to 40 s): here every second, or every half headers timeout.
 */
export function httpTimeouts(
  config: Pick<
    Config,
    | 'HTTP_HEADERS_TIMEOUT_MS'
    | 'HTTP_REQUEST_TIMEOUT_MS'
    | 'HTTP_KEEP_ALIVE_TIMEOUT_MS'
    | 'HTTP_CONNECTION_TIMEOUT_MS'
  >,
) {
  return {
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeout: config.HTTP_CONNECTION_TIMEOUT_MS,
    http: {
      headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: Math.max(
        1,
        Math.min(1000, Math.floor(config.HTTP_HEADERS_TIMEOUT_MS / 2)),
      ),
    },
  } satisfies FastifyServerOptions & { http: ServerOptions }
}

/** The Kafka client's options from the gateway's config. */
export function kafkaOptions(config: Config, topics: TopicNames) {
  return {
    brokers: brokerList(config.KAFKA_BROKERS),
    clientId: config.KAFKA_CLIENT_ID,
    topics: [topics.meter, topics.vehicle, topics.assignments],
    connectionTimeoutMs: config.KAFKA_CONNECTION_TIMEOUT_MS,
    requestTimeoutMs: config.KAFKA_REQUEST_TIMEOUT_MS,
    retries: config.KAFKA_RETRIES,
    metadataRefreshMs: config.KAFKA_METADATA_REFRESH_MS,
  }
}

/** The publisher's options (batching, packing, back-pressure, deadlines) from the gateway's config. */
export function publisherOptions(config: Config, topics: TopicNames, now: Clock) {
  return {
    topics,
    lingerMs: config.KAFKA_LINGER_MS,
    flushMaxReadings: config.KAFKA_FLUSH_MAX_READINGS,
    messageMaxReadings: config.KAFKA_MESSAGE_MAX_READINGS,
    packing: config.KAFKA_PACKING,
    maxPendingReadings: config.KAFKA_MAX_PENDING_READINGS,
    maxInFlightFlushes: config.KAFKA_MAX_IN_FLIGHT_FLUSHES,
    sendTimeoutMs: config.KAFKA_SEND_TIMEOUT_MS,
    ackTimeoutMs: config.KAFKA_REQUEST_TIMEOUT_MS,
    now,
  }
}

/** The authenticated, rate-limited ingest API, registered under /v1. */
function v1Routes(config: Config, time: ReadingTimeOptions, now: Clock): FastifyPluginAsync {
  return async (v1) => {
    await v1.register(bodyParsers)
    await v1.register(auth, { secret: tokenSecret(config), fleetTokens: fleetTokens(config) })
    await v1.register(tokenRateLimit, {
      deviceRequests: config.RATE_LIMIT_MAX,
      deviceReadings: config.RATE_LIMIT_READINGS_MAX,
      fleetRequests: config.RATE_LIMIT_FLEET_MAX,
      fleetReadings: config.RATE_LIMIT_FLEET_READINGS_MAX,
      windowMs: config.RATE_LIMIT_WINDOW_MS,
      now,
    })
    await v1.register(ingestRoutes, { time, bodyLimitBytes: config.INGEST_BODY_LIMIT_BYTES })
    await v1.register(batchRoutes, {
      time,
      maxItems: config.INGEST_BATCH_MAX_ITEMS,
      maxItemBytes: config.INGEST_BATCH_ITEM_MAX_BYTES,
      maxUnreadable: config.INGEST_BATCH_MAX_UNREADABLE,
    })
    await v1.register(assignmentRoutes, { bodyLimitBytes: config.INGEST_BODY_LIMIT_BYTES })
    await v1.register(ocppRoutes, { time, bodyLimitBytes: 1024 * 1024 })
  }
}

/** Builds the gateway without listening: plugins first, then routes, in boot order. */
export async function buildApp(config: Config, overrides: AppOverrides = {}) {
  const now = overrides.now ?? Date.now
  const app = Fastify({
    logger: overrides.logger ?? loggerOptions(config),
    ...httpTimeouts(config),
    bodyLimit: config.INGEST_BODY_LIMIT_BYTES,
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>()
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX)
  const time: ReadingTimeOptions = {
    now,
    maxFutureSkewMs: config.INGEST_MAX_FUTURE_SKEW_MS,
    retentionMonths: config.HISTORY_RETENTION_MONTHS,
    retentionMarginMs: config.INGEST_RETENTION_MARGIN_MS,
  }

  // Bodies are never repaired: TypeBox's compiler converts no body value and strips no field.
  await app.register(validation)
  await app.register(metrics, { service: 'gateway', processMetrics: config.METRICS_PROCESS })
  await app.register(gatewayMetrics)
  await app.register(errorHandler, {
    ...errorPolicy(config.RETRY_AFTER_S),
    notFound: (method, path) => new NotFound(method, path),
  })
  await app.register(openapi, openapiOptions(true))
  await app.register(kafka, kafkaOptions(config, topics))
  await app.register(publisher, publisherOptions(config, topics, now))

  // Readiness: Kafka can take readings now (producer connected, topics known, broker answering).
  await app.register(health, {
    timeoutMs: 1000,
    checks: {
      kafka: () => {
        const { ready, reason } = app.kafka.readiness()
        return ready ? { ok: true } : { ok: false, reason: reason ?? 'not ready' }
      },
    },
  })
  await app.register(v1Routes(config, time, now), { prefix: '/v1' })
  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
