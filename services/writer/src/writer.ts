import { topicNames, type TopicNames } from '@energy-ingest/contracts'
import { PartitionManager, migrate } from '@energy-ingest/db'
import { createPrometheus, kafkaLogCreator, type CheckResult } from '@energy-ingest/service-kit'
import { Kafka, logLevel, type Admin } from 'kafkajs'
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

/**
 * The writer: its consumer, the timers around it (partitions, rollups, lag, heartbeat) and its
 * health/metrics app (buildApp). Nothing connects or listens until start().
 */
export async function createWriter(config: Config, opts: BuildOptions = {}): Promise<Writer> {
  const log = opts.logger ?? pino({ level: config.LOG_LEVEL, name: 'writer' })
  const prometheus = createPrometheus({ service: 'writer', processMetrics: true })
  const metrics = createMetrics(prometheus)
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX)

  const pool = createPool(config, { max: config.PG_POOL_MAX, name: 'energy-writer', log })
  const heartbeatPool = createPool(config, { max: 1, name: 'energy-writer-heartbeat', log })

  const kafka = new Kafka({
    clientId: config.KAFKA_CLIENT_ID,
    brokers: brokerList(config),
    connectionTimeout: config.KAFKA_CONNECTION_TIMEOUT_MS,
    requestTimeout: config.KAFKA_REQUEST_TIMEOUT_MS,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(log.child({ component: 'kafka' })),
  })
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  const admin = kafka.admin()
  const deadLetters = new DeadLetterPublisher({
    producer,
    topic: topics.dlq,
    metrics,
    log: log.child({ component: 'dlq' }),
  })
  const consumer = new TelemetryConsumer({
    kafka,
    pool,
    deadLetters,
    topics,
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
    metrics,
    log: log.child({ component: 'consumer' }),
    afterCommit: opts.afterCommit,
    onFatal: opts.onFatal,
    ...(opts.now ? { now: opts.now } : {}),
  })
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
    admin,
    groupId: config.KAFKA_GROUP_ID,
    assignment: () => consumer.assignment(),
    fromBeginning: config.KAFKA_FROM_BEGINNING,
    intervalMs: config.CONSUMER_LAG_INTERVAL_MS,
    metrics,
    log: log.child({ component: 'lag' }),
  })
  const heartbeat = new Heartbeat({
    pool: heartbeatPool,
    intervalMs: config.WRITER_HEARTBEAT_INTERVAL_MS,
    metrics,
    log: log.child({ component: 'heartbeat' }),
  })

  const http = await buildApp({
    logger: log,
    prometheus,
    readyTimeoutMs: READY_TIMEOUT_MS,
    checks: {
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
    },
  })

  let url = ''
  let started = false
  return {
    log,
    metrics,
    url: () => url,
    async start() {
      url = await http.listen({ host: config.HOST, port: config.WRITER_PORT })
      if (config.MIGRATE_ON_START) {
        const { applied } = await migrate({
          connectionString: config.DATABASE_URL,
          connectTimeoutMs: config.PG_CONNECT_TIMEOUT_MS,
          log: (message, fields) => log.info(fields ?? {}, message),
        })
        if (applied.length > 0) log.info({ applied }, 'migrations applied')
      }
      heartbeat.start()
      await partitions.start()
      await producer.connect()
      await admin.connect()
      await deadLetters.configure(admin)
      await checkPartitionCounts(admin, topics, config.KAFKA_PARTITIONS, log)
      await consumer.start()
      closer.start()
      watermarks.start()
      lag.start()
      started = true
      log.info({ url, groupId: config.KAFKA_GROUP_ID, topics }, 'writer started')
    },
    async stop() {
      if (started) await consumer.stop()
      await lag.stop()
      await closer.stop()
      await watermarks.stop()
      await heartbeat.stop()
      await partitions.stop()
      await producer.disconnect()
      await admin.disconnect()
      await http.close()
      await pool.end()
      await heartbeatPool.end()
      log.info('writer stopped')
    },
  }
}
