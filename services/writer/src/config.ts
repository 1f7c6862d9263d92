import { Type, type Static } from '@sinclair/typebox'
import { DEFAULT_PARTITIONS } from '@energy-ingest/contracts'
import {
  ConfigError,
  Int,
  brokerList as splitBrokers,
  httpFields,
  kafkaFields,
  loadEnvConfig,
  postgresUrlField,
  processFields,
} from '@energy-ingest/service-kit'

/** Every setting of the writer: one environment variable each, with its default. */
export const ConfigSchema = Type.Object({
  ...httpFields({
    port: 3002,
    portName: 'WRITER_PORT',
    hostDescription: 'Interface of the health/metrics port',
    portDescription: 'HTTP port of /health/live, /health/ready, /metrics (0: any free port)',
  }),
  ...processFields({ shutdownGraceMs: 30_000 }),

  DATABASE_URL: postgresUrlField('PostgreSQL primary'),
  PG_POOL_MAX: Int(4, 1, 'Connections at most (one per kind being stored, plus maintenance)'),
  PG_CONNECT_TIMEOUT_MS: Int(
    10_000,
    0,
    'A connection attempt (or a wait for a pooled one) gives up after this (0: never)',
  ),
  PG_STATEMENT_TIMEOUT_MS: Int(
    120_000,
    0,
    'statement_timeout of every writer connection: above the longest batch statement (0: none)',
  ),
  PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: Int(
    60_000,
    0,
    'idle_in_transaction_session_timeout: the server ends a session idle in a transaction this long (0: never)',
  ),
  PG_KEEPALIVE_IDLE_MS: Int(
    10_000,
    0,
    'TCP keepalive on every connection: first probe after this much silence',
  ),
  MIGRATE_ON_START: Type.Boolean({ default: true, description: 'Apply pending migrations at start-up' }),

  ...kafkaFields({ clientId: 'energy-writer', connectionTimeoutMs: 3000, requestTimeoutMs: 30_000 }),
  KAFKA_GROUP_ID: Type.String({ default: 'energy-writer', minLength: 1, description: 'Consumer group' }),
  KAFKA_PARTITIONS: Int(
    DEFAULT_PARTITIONS,
    1,
    'Partitions of the telemetry topics (created by the stack): the ceiling on writers',
  ),
  KAFKA_FROM_BEGINNING: Type.Boolean({
    default: true,
    description: 'A group without committed offsets starts at the oldest message (nothing is skipped)',
  }),
  KAFKA_PARTITIONS_CONCURRENTLY: Int(
    8,
    1,
    'Partition batches one writer has in hand at once; those of one kind are stored in one transaction',
  ),
  KAFKA_MAX_BYTES_PER_PARTITION: Int(4 * 1024 * 1024, 1024, 'Fetch size per partition: the batch size'),
  KAFKA_MAX_BYTES: Int(16 * 1024 * 1024, 1024, 'Fetch size per request'),
  KAFKA_MAX_WAIT_MS: Int(500, 0, 'How long a fetch waits for KAFKA_MIN_BYTES'),
  KAFKA_MIN_BYTES: Int(1, 1, 'A fetch returns once this many bytes are there'),
  // 6 s is the broker's smallest allowed session (group.min.session.timeout.ms): a killed writer's
  // partitions move after it. The retry back-off heartbeats every interval, so pauses keep membership.
  KAFKA_SESSION_TIMEOUT_MS: Int(
    6000,
    1000,
    'Consumer session timeout: how long a killed writer holds its partitions before they move',
  ),
  KAFKA_HEARTBEAT_INTERVAL_MS: Int(
    1000,
    100,
    'Consumer heartbeat interval (and the step of a retry back-off)',
  ),

  MAX_FUTURE_SKEW_MS: Int(300_000, 0, "A reading further ahead of its envelope's receivedAt goes to the DLQ"),
  HISTORY_RETENTION_MONTHS: Int(13, 1, 'Months kept besides the current one; older readings go to the DLQ'),
  PARTITION_MAINTENANCE_INTERVAL_MS: Int(3_600_000, 1000, 'How often months are created/dropped'),
  CONSUMER_LAG_INTERVAL_MS: Int(
    5000,
    10,
    'How often writer_consumer_lag is read from the broker (committed offsets vs high watermarks)',
  ),
  WRITER_HEARTBEAT_INTERVAL_MS: Int(
    1000,
    10,
    'How often writer_heartbeat is touched on the primary (replica lag is measured against it)',
  ),
  ROLLUP_CLOSE_INTERVAL_MS: Int(60_000, 100, 'How often closed hours are materialised into *_hourly'),
  ROLLUP_WATERMARK_INTERVAL_MS: Int(
    15_000,
    10,
    'How often writer_rollup_watermark_age_seconds is refreshed from rollup_watermarks',
  ),
  ROLLUP_GRACE_MS: Int(300_000, 0, 'An hour is materialised this long after it ends'),
  ENERGY_MAX_POWER_KW: Type.Number({
    default: 400,
    exclusiveMinimum: 0,
    maximum: 100_000,
    description:
      'Power ceiling of register meters, kW: an energy register increase implying more is stored as suspect and counts 0',
  }),
  RETRY_INITIAL_MS: Int(200, 1, 'First back-off of a batch that failed on a transient error'),
  RETRY_MAX_MS: Int(10_000, 1, 'Longest back-off between retries of a batch'),
})
export type Config = Static<typeof ConfigSchema>

export { ConfigError }

/** Reads the settings from an env-like object; throws one ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  return loadEnvConfig(ConfigSchema, env, (config) => {
    const problems: string[] = []
    if (config.RETRY_INITIAL_MS > config.RETRY_MAX_MS) {
      problems.push('RETRY_INITIAL_MS: must not exceed RETRY_MAX_MS')
    }
    if (config.KAFKA_MAX_BYTES_PER_PARTITION > config.KAFKA_MAX_BYTES) {
      problems.push('KAFKA_MAX_BYTES_PER_PARTITION: must not exceed KAFKA_MAX_BYTES')
    }
    return problems
  })
}

export function brokerList(config: Pick<Config, 'KAFKA_BROKERS'>): string[] {
  return splitBrokers(config.KAFKA_BROKERS)
}
