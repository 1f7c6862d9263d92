import { loadEnvConfig } from '@energy-ingest/service-kit'
import { Type, type Static } from '@sinclair/typebox'

const Int = (def: number, min: number, description: string, max?: number) =>
  Type.Integer({ default: def, minimum: min, ...(max === undefined ? {} : { maximum: max }), description })

/** Every setting of the analytics service: one environment variable each, with its default. */
export const ConfigSchema = Type.Object({
  HOST: Type.String({ default: '0.0.0.0', minLength: 1, description: 'Interface to listen on' }),
  PORT: Int(3001, 0, 'HTTP port', 65535),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'pino level' },
  ),
  SHUTDOWN_GRACE_MS: Int(10_000, 0, 'Deadline of a graceful shutdown; past it the process exits 1'),
  ANALYTICS_DATABASE_URL: Type.String({
    minLength: 1,
    pattern: '^postgres(ql)?://',
    description: 'The read replica (postgres://user@host:port/db)',
  }),
  ANALYTICS_ALLOW_PRIMARY: Type.Boolean({
    default: false,
    description: 'Serve from a server that is not in recovery (a primary); otherwise /health/ready fails',
  }),
  ANALYTICS_API_KEYS: Type.String({ minLength: 1, description: 'Comma-separated API keys (Bearer)' }),
  ANALYTICS_POOL_MAX: Int(10, 1, 'Connections to the replica at most'),
  ANALYTICS_STATEMENT_TIMEOUT_MS: Int(5_000, 1, 'statement_timeout of every query'),
  ANALYTICS_PG_CONNECT_TIMEOUT_MS: Int(
    3_000,
    1,
    'Longest wait for a pooled connection (a free one, or a new one connecting); then 503',
  ),
  ANALYTICS_PG_IDLE_TIMEOUT_MS: Int(30_000, 1, 'A pooled connection idle this long is closed'),
  ANALYTICS_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: Int(
    10_000,
    1,
    'idle_in_transaction_session_timeout: the replica ends a session idle inside a transaction this long',
  ),
  ANALYTICS_PG_KEEPALIVE_MS: Int(
    10_000,
    0,
    'TCP keepalive on replica connections: idle time before the first probe; 0 = off',
  ),
  ANALYTICS_HEALTH_TIMEOUT_MS: Int(
    1_000,
    1,
    'Connect and statement timeout of the readiness probe, which has a connection of its own',
  ),
  ANALYTICS_REQUEST_TIMEOUT_MS: Int(
    10_000,
    0,
    'Longest time to receive a whole HTTP request (headers and body); 0 = no limit',
  ),
  ANALYTICS_CONNECTION_TIMEOUT_MS: Int(
    120_000,
    0,
    'An HTTP connection inactive this long is closed (above the keep-alive timeout); 0 = no limit',
  ),
  ANALYTICS_KEEP_ALIVE_TIMEOUT_MS: Int(72_000, 1, 'An idle keep-alive HTTP connection is closed after this'),
  ANALYTICS_MAX_WINDOW_DAYS: Int(31, 1, 'Longest from/to window'),
  ANALYTICS_ALERT_THRESHOLD: Type.Number({
    default: 0.85,
    exclusiveMinimum: 0,
    maximum: 10,
    description: 'Default efficiency threshold of the alerts and the fleet summary',
  }),
  ANALYTICS_ALERTS_CACHE_MS: Int(
    30_000,
    0,
    'How often the efficiency alerts check which closed hours changed (and read only those); 0 = every request',
  ),
  ANALYTICS_SERIES_MAX_POINTS: Int(2_000, 1, 'Most points one time-series answer may hold', 100_000),
  ANALYTICS_EXPORT_MAX_DAYS: Int(31, 1, 'Longest window of one /v1/export/readings request', 366),
  ANALYTICS_EXPORT_TIMEOUT_MS: Int(600_000, 0, 'statement_timeout of one export (0 = none)'),
  ANALYTICS_EXPORT_MAX_CONCURRENT: Int(
    2,
    1,
    'Exports running at once at most (each holds a replica connection)',
  ),
  ANALYTICS_MAX_REPLICA_LAG_S: Int(60, 1, 'Replication lag beyond which /health/ready fails'),
})
export type Config = Static<typeof ConfigSchema>

export function loadConfig(env: Record<string, string | undefined>): Config {
  return loadEnvConfig(ConfigSchema, env, (c) =>
    typeof c.ANALYTICS_API_KEYS === 'string' && apiKeys(c).length === 0
      ? ['ANALYTICS_API_KEYS: at least one non-empty key is required']
      : [],
  )
}

export function apiKeys(config: Pick<Config, 'ANALYTICS_API_KEYS'>): string[] {
  return config.ANALYTICS_API_KEYS.split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0)
}
