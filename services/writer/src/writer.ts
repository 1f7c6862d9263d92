import { topicNames, type TopicNames } from '@energy-ingest/contracts'
import { PartitionManager, migrate } from '@energy-ingest/db'
import { createPrometheus, kafkaLogCreator, type CheckResult } from '@energy-ingest/service-kit'
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs'
import { pino, type Logger } from 'pino'
import { buildApp } from './app.js'
import { brokerList, type Config } from './config.js'
import { TelemetryConsumer, type ConsumerOptions } from './consumer.js'
import { DeadLetterPublisher } from './dead-letters.js'
import { Heartbeat } from './heartbeat.js'
import { LagMonitor } from './lag-monitor.js'
import { createMetrics, type Metrics } from './metrics.js'
import { createPool } from './pg-pool.js'
import { RollupCloser } from './rollup-closer.js'
import { WatermarkMonitor } from './watermark-monitor.js'

export interface Writer {
  /** Migrates, creates partitions, joins the group, starts the timers, listens. */
  start(): Promise<void>
  /** Finishes the batches in hand, commits their offsets, leaves the group, closes everything. */
  stop(): Promise<void>
  /** http://host:port of the health/metrics server, once started. */
  url(): string
  log: Logger
  metrics: Metrics
}

/** A readiness check that has not answered by then fails (the database one, in practice). */
const READY_TIMEOUT_MS = 1000

/** Warns when the topics have another partition count than configured (it caps how many writers help). */
async function checkPartitionCounts(admin: Admin, topics: TopicNames, expected: number, log: Logger) {
  try {
    const { topics: found } = await admin.fetchTopicMetadata({ topics: [topics.meter, topics.vehicle] })
    for (const t of found) {
      if (t.partitions.length !== expected) {
        log.warn(
          { topic: t.name, partitions: t.partitions.length, expected },
          'topic partition count differs from KAFKA_PARTITIONS',
        )
      }
    }
  } catch (err) {
    log.warn({ err }, 'could not read topic metadata')
  }
}

/** What tests and main.ts may set besides the config. */
export interface BuildOptions {
  logger?: Logger
  /** Test hook: after a batch's transaction committed, before its offsets are resolved. */
  afterCommit?: ConsumerOptions['afterCommit']
  /**
   * The consumer stopped for good (kafkajs crashed on an error it does not retry and will not restart
   * it). The process should exit non-zero so that its supervisor starts a fresh writer; main.ts does.
   */
  onFatal?: (err: Error) => void
  /** The writer's clock (retention cutoff, closing hours, partitions ahead, metric ages); tests fix it. */
  now?: () => Date
}

type Pool = ReturnType<typeof createPool>

/** What createWriter builds before anything connects: the pools, Kafka clients and timers. */
interface Parts {
  log: Logger
  config: Config
  topics: TopicNames
  pool: Pool
  heartbeatPool: Pool
  producer: Producer
  admin: Admin
  deadLetters: DeadLetterPublisher
  consumer: TelemetryConsumer
  partitions: PartitionManager
  closer: RollupCloser
  watermarks: WatermarkMonitor
  lag: LagMonitor
  heartbeat: Heartbeat
}

function createKafka(config: Config, log: Logger): Kafka {
  return new Kafka({
    clientId: config.KAFKA_CLIENT_ID,
    brokers: brokerList(config),
    connectionTimeout: config.KAFKA_CONNECTION_TIMEOUT_MS,
    requestTimeout: config.KAFKA_REQUEST_TIMEOUT_MS,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(log.child({ component: 'kafka' })),
  })
}

interface ConsumerDeps {
  kafka: Kafka
  pool: Pool
  deadLetters: DeadLetterPublisher
  topics: TopicNames
  metrics: Metrics
  log: Logger
}

function createConsumer(config: Config, opts: BuildOptions, deps: ConsumerDeps): TelemetryConsumer {
  return new TelemetryConsumer({
    ...deps,
    groupId: config.KAFKA_GROUP_ID,
    fromBeginning: config.KAFKA_FROM_BEGINNING,
    partitionsConcurrently: config.KAFKA_PARTITIONS_CONCURRENTLY,
    maxBytesPerPartition: config.KAFKA_MAX_BYTES_PER_PARTITION,
    maxBytes: config.KAFKA_MAX_BYTES,
    maxWaitMs: config.KAFKA_MAX_WAIT_MS,
    minBytes: config.KAFKA_MIN_BYTES,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: config.KAFKA_HEARTBEAT_INTERVAL_MS,
    retentionMonths: config.HISTORY_RETENTION_MONTHS,
    maxFutureSkewMs: config.MAX_FUTURE_SKEW_MS,
    retryInitialMs: config.RETRY_INITIAL_MS,
    retryMaxMs: config.RETRY_MAX_MS,
    maxPowerKw: config.ENERGY_MAX_POWER_KW,
    log: deps.log.child({ component: 'consumer' }),
    afterCommit: opts.afterCommit,
    onFatal: opts.onFatal,
    ...(opts.now ? { now: opts.now } : {}),
  })
}

/** The periodic jobs around the consumer: partitions, rollups, watermarks, lag, heartbeat. */
function createTimers(
  config: Config,
  opts: BuildOptions,
  deps: {
    pool: Pool
    heartbeatPool: Pool
    admin: Admin
    consumer: TelemetryConsumer
    metrics: Metrics
    log: Logger
  },
): Pick<Parts, 'partitions' | 'closer' | 'watermarks' | 'lag' | 'heartbeat'> {
  const { pool, metrics, log } = deps
  const partitionLog = log.child({ component: 'partitions' })
  const partitions = new PartitionManager({
    connect: () => pool.connect(),
    retentionMonths: config.HISTORY_RETENTION_MONTHS,
    intervalMs: config.PARTITION_MAINTENANCE_INTERVAL_MS,
    ...(opts.now ? { now: opts.now } : {}),
    log: (level, message, fields) => partitionLog[level](fields ?? {}, message),
  })
  const closer = new RollupCloser({
    pool,
    intervalMs: config.ROLLUP_CLOSE_INTERVAL_MS,
    graceMs: config.ROLLUP_GRACE_MS,
    metrics,
    log: log.child({ component: 'rollups' }),
    ...(opts.now ? { now: opts.now } : {}),
  })
  const watermarks = new WatermarkMonitor({
    db: pool,
    intervalMs: config.ROLLUP_WATERMARK_INTERVAL_MS,
    metrics,
    log: log.child({ component: 'rollups' }),
    now: opts.now ?? (() => new Date()),
  })
  const lag = new LagMonitor({
    admin: deps.admin,
    groupId: config.KAFKA_GROUP_ID,
    assignment: () => deps.consumer.assignment(),
    fromBeginning: config.KAFKA_FROM_BEGINNING,
    intervalMs: config.CONSUMER_LAG_INTERVAL_MS,
    metrics,
    log: log.child({ component: 'lag' }),
  })
  const heartbeat = new Heartbeat({
    pool: deps.heartbeatPool,
    intervalMs: config.WRITER_HEARTBEAT_INTERVAL_MS,
    metrics,
    log: log.child({ component: 'heartbeat' }),
  })
  return { partitions, closer, watermarks, lag, heartbeat }
}

function createParts(config: Config, opts: BuildOptions, log: Logger, metrics: Metrics): Parts {
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX)
  const pool = createPool(config, { max: config.PG_POOL_MAX, name: 'energy-writer', log })
  const heartbeatPool = createPool(config, { max: 1, name: 'energy-writer-heartbeat', log })
  const kafka = createKafka(config, log)
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  const admin = kafka.admin()
  const deadLetters = new DeadLetterPublisher({
    producer,
    topic: topics.dlq,
    metrics,
    log: log.child({ component: 'dlq' }),
  })
  const consumer = createConsumer(config, opts, { kafka, pool, deadLetters, topics, metrics, log })
  const timers = createTimers(config, opts, { pool, heartbeatPool, admin, consumer, metrics, log })
  return { log, config, topics, pool, heartbeatPool, producer, admin, deadLetters, consumer, ...timers }
}

/** The readiness checks of the health app: the consumer's own state and a round trip to the database. */
function readinessChecks(consumer: TelemetryConsumer, pool: Pool) {
  return {
    consumer: (): CheckResult => {
      const state = consumer.readiness()
      return state.ready ? { ok: true } : { ok: false, reason: state.reason ?? 'not ready' }
    },
    database: async (): Promise<CheckResult> => {
      try {
        await pool.query('SELECT 1')
        return { ok: true }
      } catch (err) {
        return { ok: false, reason: `unreachable: ${(err as Error).message}` }
      }
    },
  }
}

async function migrateOnStart(config: Config, log: Logger): Promise<void> {
  const { applied } = await migrate({
    connectionString: config.DATABASE_URL,
    connectTimeoutMs: config.PG_CONNECT_TIMEOUT_MS,
    log: (message, fields) => log.info(fields ?? {}, message),
  })
  if (applied.length > 0) log.info({ applied }, 'migrations applied')
}

/** Start order: timers that need only the database, then Kafka clients, then the consumer and its monitors. */
async function startParts(p: Parts): Promise<void> {
  if (p.config.MIGRATE_ON_START) await migrateOnStart(p.config, p.log)
  p.heartbeat.start()
  await p.partitions.start()
  await p.producer.connect()
  await p.admin.connect()
  await p.deadLetters.configure(p.admin)
  await checkPartitionCounts(p.admin, p.topics, p.config.KAFKA_PARTITIONS, p.log)
  await p.consumer.start()
  p.closer.start()
  p.watermarks.start()
  p.lag.start()
}

/** Stop order: the consumer first (it finishes its batches), then the timers, the clients, the pools. */
async function stopParts(p: Parts, consumerStarted: boolean): Promise<void> {
  if (consumerStarted) await p.consumer.stop()
  await p.lag.stop()
  await p.closer.stop()
  await p.watermarks.stop()
  await p.heartbeat.stop()
  await p.partitions.stop()
  await p.producer.disconnect()
  await p.admin.disconnect()
}

/**
 * The writer: its consumer, the timers around it (partitions, rollups, lag, heartbeat) and its
 * health/metrics app (buildApp). Nothing connects or listens until start().
 */
export async function createWriter(config: Config, opts: BuildOptions = {}): Promise<Writer> {
  const log = opts.logger ?? pino({ level: config.LOG_LEVEL, name: 'writer' })
  const prometheus = createPrometheus({ service: 'writer', processMetrics: true })
  const metrics = createMetrics(prometheus)
  const parts = createParts(config, opts, log, metrics)
  const http = await buildApp({
    logger: log,
    prometheus,
    readyTimeoutMs: READY_TIMEOUT_MS,
    checks: readinessChecks(parts.consumer, parts.pool),
  })

  let url = ''
  let started = false
  return {
    log,
    metrics,
    url: () => url,
    async start() {
      url = await http.listen({ host: config.HOST, port: config.WRITER_PORT })
      await startParts(parts)
      started = true
      log.info({ url, groupId: config.KAFKA_GROUP_ID, topics: parts.topics }, 'writer started')
    },
    async stop() {
      await stopParts(parts, started)
      await http.close()
      await parts.pool.end()
      await parts.heartbeatPool.end()
      log.info('writer stopped')
    },
  }
}
