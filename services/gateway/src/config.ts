import { Type, type Static } from '@sinclair/typebox'
import {
  ConfigError,
  Int,
  httpFields,
  kafkaFields,
  loadEnvConfig,
  processFields,
} from '@energy-ingest/service-kit'

/** Every setting of the gateway: one environment variable each, with its default. */
export const ConfigSchema = Type.Object({
  ...httpFields({ port: 3000 }),
  ...processFields({ shutdownGraceMs: 10_000 }),
  HTTP_HEADERS_TIMEOUT_MS: Int(10_000, 1, 'A request whose headers have not all arrived by then gets 408'),
  HTTP_REQUEST_TIMEOUT_MS: Int(30_000, 1, 'A request whose body has not all arrived by then gets 408'),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: Int(72_000, 1, 'An idle keep-alive connection is closed after this long'),
  HTTP_CONNECTION_TIMEOUT_MS: Int(90_000, 1, 'A socket without any traffic for this long is destroyed'),

  ...kafkaFields({ clientId: 'energy-gateway', connectionTimeoutMs: 1000, requestTimeoutMs: 3000 }),
  KAFKA_LINGER_MS: Int(3, 0, 'How long readings behind a send in flight wait before another send starts'),
  KAFKA_FLUSH_MAX_READINGS: Int(20_000, 1, 'A flush starts at once when this many readings wait'),
  KAFKA_MESSAGE_MAX_READINGS: Int(500, 1, 'Readings packed into one Kafka message at most'),
  KAFKA_PACKING: Type.Union([Type.Literal('partition'), Type.Literal('none')], {
    default: 'partition',
    description: 'partition: readings sharing a partition share a message; none: one message per reading',
  }),
  KAFKA_MAX_PENDING_READINGS: Int(200_000, 1, 'Readings waiting or in flight before new ones get 503'),
  KAFKA_MAX_IN_FLIGHT_FLUSHES: Int(16, 1, 'sendBatch calls in flight at once'),
  KAFKA_RETRIES: Int(2, 1, 'kafkajs retries of a failed send'),
  KAFKA_SEND_TIMEOUT_MS: Int(3000, 1, 'Hard deadline of one flush; past it its requests get 503'),
  KAFKA_METADATA_REFRESH_MS: Int(30_000, 100, 'How often partition counts are re-read'),
  RETRY_AFTER_S: Int(2, 0, 'Retry-After of a 503'),

  INGEST_TOKEN_SECRET: Type.String({ default: '', description: 'HMAC key of device tokens (>= 16 chars)' }),
  INGEST_FLEET_TOKENS: Type.String({
    default: '',
    description: 'Comma-separated tokens valid for any device',
  }),
  INGEST_DEV_MODE: Type.Boolean({
    default: false,
    description: 'Allow a built-in secret (never in production)',
  }),
  INGEST_BATCH_MAX_ITEMS: Int(5000, 1, 'Readings per batch request at most'),
  INGEST_BODY_LIMIT_BYTES: Int(16_384, 256, 'Body limit of single-reading and assignment requests'),
  INGEST_BATCH_ITEM_MAX_BYTES: Int(
    1024,
    256,
    'Bytes one batch item may take; with INGEST_BATCH_MAX_ITEMS it sizes the batch body limit',
  ),
  INGEST_BATCH_MAX_UNREADABLE: Int(10, 1, 'A batch is refused (400) at this many items that are not JSON'),
  INGEST_MAX_FUTURE_SKEW_MS: Int(300_000, 0, 'Timestamps further ahead of the clock are refused'),
  HISTORY_RETENTION_MONTHS: Int(
    13,
    1,
    "Months kept besides the current one (the writer's setting): readings it would expire are refused",
  ),
  INGEST_RETENTION_MARGIN_MS: Int(
    3_600_000,
    0,
    'The retention horizon is taken this far ahead of the clock, so an accepted reading cannot expire on its way',
  ),

  RATE_LIMIT_MAX: Int(600, 1, 'Requests per window and device token'),
  RATE_LIMIT_READINGS_MAX: Int(20_000, 0, 'Readings per window and device token; 0 = unlimited'),
  RATE_LIMIT_FLEET_MAX: Int(0, 0, 'Requests per window and fleet token; 0 = unlimited'),
  RATE_LIMIT_FLEET_READINGS_MAX: Int(0, 0, 'Readings per window and fleet token; 0 = unlimited'),
  RATE_LIMIT_WINDOW_MS: Int(60_000, 1, 'Rate-limit window'),
  METRICS_PROCESS: Type.Boolean({ default: true, description: 'Export process/runtime metrics too' }),
})
export type Config = Static<typeof ConfigSchema>

/** Used only when INGEST_DEV_MODE=true and no secret is set; the CLI uses it in the same case. */
export const DEV_TOKEN_SECRET = 'energy-ingest-dev-secret-not-for-production'

export { ConfigError }

/** Reads the settings from an env-like object; throws one ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  return loadEnvConfig(ConfigSchema, env, (config) => {
    const problems: string[] = []
    if (typeof config.INGEST_TOKEN_SECRET === 'string') {
      if (config.INGEST_TOKEN_SECRET === '' && config.INGEST_DEV_MODE !== true) {
        problems.push('INGEST_TOKEN_SECRET: required (or set INGEST_DEV_MODE=true for a dev run)')
      } else if (config.INGEST_TOKEN_SECRET !== '' && config.INGEST_TOKEN_SECRET.length < 16) {
        problems.push('INGEST_TOKEN_SECRET: must be at least 16 characters')
      }
    }
    if (config.HTTP_HEADERS_TIMEOUT_MS > config.HTTP_REQUEST_TIMEOUT_MS) {
      problems.push('HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS')
    }
    // A request waiting for Kafka's acknowledgement sends nothing; its socket must outlive that wait.
    if (config.HTTP_CONNECTION_TIMEOUT_MS <= config.KAFKA_SEND_TIMEOUT_MS + config.KAFKA_LINGER_MS) {
      problems.push('HTTP_CONNECTION_TIMEOUT_MS: must exceed KAFKA_SEND_TIMEOUT_MS + KAFKA_LINGER_MS')
    }
    if (config.HTTP_CONNECTION_TIMEOUT_MS <= config.HTTP_KEEP_ALIVE_TIMEOUT_MS) {
      problems.push('HTTP_CONNECTION_TIMEOUT_MS: must exceed HTTP_KEEP_ALIVE_TIMEOUT_MS')
    }
    // A full batch must fit in a readings budget, or it would be refused for ever.
    for (const name of ['RATE_LIMIT_READINGS_MAX', 'RATE_LIMIT_FLEET_READINGS_MAX'] as const) {
      if (config[name] > 0 && config[name] < config.INGEST_BATCH_MAX_ITEMS) {
        problems.push(`${name}: must be 0 (unlimited) or at least INGEST_BATCH_MAX_ITEMS`)
      }
    }
    if (config.INGEST_BATCH_MAX_ITEMS > config.KAFKA_MAX_PENDING_READINGS) {
      problems.push('INGEST_BATCH_MAX_ITEMS: must not exceed KAFKA_MAX_PENDING_READINGS')
    }
    // Between its validation and its envelope's receivedAt a reading waits at most the send deadline
    // (plus the linger); the writer judges expiry by receivedAt.
    if (config.INGEST_RETENTION_MARGIN_MS < config.KAFKA_SEND_TIMEOUT_MS + config.KAFKA_LINGER_MS) {
      problems.push('INGEST_RETENTION_MARGIN_MS: must be at least KAFKA_SEND_TIMEOUT_MS + KAFKA_LINGER_MS')
    }
    return problems
  })
}

/** The HMAC key in force: the configured secret, or the dev secret in a dev run. */
export function tokenSecret(config: Pick<Config, 'INGEST_TOKEN_SECRET'>): string {
  return config.INGEST_TOKEN_SECRET === '' ? DEV_TOKEN_SECRET : config.INGEST_TOKEN_SECRET
}

export function fleetTokens(config: Pick<Config, 'INGEST_FLEET_TOKENS'>): string[] {
  return config.INGEST_FLEET_TOKENS.split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
}
