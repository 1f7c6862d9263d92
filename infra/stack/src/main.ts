// `npm start`: the whole system on this machine, no Docker. PostgreSQL primary + streaming replica and
// a KRaft Kafka broker with data kept in .data/, migrations, topics, then gateway, writer(s) and
// analytics from their build output, all supervised: a process that exits is restarted with back-off;
// only a crash loop stops the stack. Ctrl-C / SIGTERM stops everything, services first.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { ConfigSchema as AnalyticsSettings } from '@energy-ingest/analytics'
import { topicNames } from '@energy-ingest/contracts'
import { ConfigSchema as GatewaySettings } from '@energy-ingest/gateway'
import { ConfigSchema as WriterSettings } from '@energy-ingest/writer'
import { migrate } from '@energy-ingest/db'
import {
  Reaper,
  createTopics,
  repoRoot,
  startPostgresPair,
  withDatabase,
  type KafkaServer,
  type PgServer,
  type PostgresPair,
} from '@energy-ingest/localstack'
import { loadStackConfig, type StackConfig } from './config.js'
import { PidFile } from './pid-file.js'
import { startStackKafka, type StackKafka } from './kafka.js'
import { writePrivateFile } from './private-file.js'
import { startService, waitReady, type RunningService, type ServiceSpec } from './services.js'
import { Supervisor, type SupervisedUnit } from './supervisor.js'

const say = (message: string) => process.stdout.write(`[stack] ${message}\n`)

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (rowCount === 0) await client.query(`CREATE DATABASE ${name}`)
  } finally {
    await client.end()
  }
}

function serviceSpecs(config: StackConfig, urls: { primary: string; replica: string; brokers: string }) {
  const common = {
    KAFKA_BROKERS: urls.brokers,
    KAFKA_TOPIC_PREFIX: config.topicPrefix,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  }
  const gateway = {
    name: 'gateway',
    entry: 'services/gateway/dist/main.js',
    settings: GatewaySettings,
    env: {
      ...common,
      PORT: String(config.gatewayPort),
      HOST: '127.0.0.1',
      INGEST_TOKEN_SECRET: config.secrets.tokenSecret,
      INGEST_FLEET_TOKENS: process.env.INGEST_FLEET_TOKENS ?? config.secrets.fleetToken,
    },
    readyUrl: `http://127.0.0.1:${config.gatewayPort}/health/ready`,
  }
  const writers = Array.from({ length: config.writers }, (_, i) => ({
    name: config.writers === 1 ? 'writer' : `writer-${i + 1}`,
    entry: 'services/writer/dist/main.js',
    settings: WriterSettings,
    env: {
      ...common,
      DATABASE_URL: urls.primary,
      WRITER_PORT: String(config.writerBasePort + i),
      HOST: '127.0.0.1',
    },
    readyUrl: `http://127.0.0.1:${config.writerBasePort + i}/health/ready`,
  }))
  const analytics = {
    name: 'analytics',
    entry: 'services/analytics/dist/main.js',
    settings: AnalyticsSettings,
    env: {
      ...common,
      PORT: String(config.analyticsPort),
      HOST: '127.0.0.1',
      ANALYTICS_DATABASE_URL: urls.replica,
      ANALYTICS_API_KEYS: process.env.ANALYTICS_API_KEYS ?? config.secrets.analyticsKey,
    },
    readyUrl: `http://127.0.0.1:${config.analyticsPort}/health/ready`,
  }
  return [gateway, ...writers, analytics]
}

/** A crash loop: this many exits of one process within the window stop the stack. */
const CRASH_LOOP = { maxExits: 5, windowMs: 60_000 }

/** A service as a supervised unit: each start spawns it again and waits for its readiness. */
function serviceUnit(
  spec: ServiceSpec,
  logDir: string,
  reaper: Reaper,
  running: Map<string, RunningService>,
  pids: PidFile,
): SupervisedUnit {
  return {
    name: spec.name,
    logFile: join(logDir, `${spec.name}.log`),
    async start() {
      const service = startService(spec, logDir, reaper)
      running.set(spec.name, service)
      try {
        await waitReady(service)
      } catch (err) {
        // Not ready in time: stop it, so a retry never runs two copies.
        await service.proc.stop('SIGTERM', 10_000)
        throw err
      }
      pids.set(spec.name, service.proc.pid)
      return { exited: service.proc.exited }
    },
  }
}

function kafkaUnit(kafka: KafkaServer, name: string, logFile: string, pids: PidFile): SupervisedUnit {
  return {
    name,
    logFile,
    async start() {
      await kafka.start()
      pids.set(name, kafka.pid())
      return { exited: kafka.exited() }
    },
  }
}

function postgresUnit(pair: PostgresPair, server: PgServer, dataDir: string, pids: PidFile): SupervisedUnit {
  return {
    name: `postgres-${server}`,
    logFile: join(dataDir, 'postgres', `${server}.log`),
    async start() {
      await pair.restart(server)
      pids.set(`postgres-${server}`, pair.pid(server))
      return { exited: pair.exited(server) }
    },
  }
}

/** Creates the stack's database if missing and migrates it; returns its primary and replica URLs. */
async function prepareDatabase(
  postgres: PostgresPair,
  config: StackConfig,
): Promise<{ primary: string; replica: string }> {
  await ensureDatabase(postgres.primaryUrl, config.database)
  const primary = withDatabase(postgres.primaryUrl, config.database)
  const replica = withDatabase(postgres.replicaUrl, config.database)
  const { applied } = await migrate({ connectionString: primary })
  say(applied.length > 0 ? `migrations applied: ${applied.join(', ')}` : 'schema up to date')
  return { primary, replica }
}

async function prepareTopics(kafka: StackKafka, config: StackConfig): Promise<void> {
  const topics = topicNames(config.topicPrefix)
  await createTopics(
    kafka.brokers,
    [topics.meter, topics.vehicle, topics.assignments, topics.dlq],
    config.partitions,
    kafka.topicOptions,
  )
  const rf = kafka.topicOptions.replicationFactor ?? 1
  say(
    `topics ready (${config.partitions} partitions` +
      (rf > 1
        ? `, replication factor ${rf}, min.insync.replicas ${kafka.topicOptions.minInsyncReplicas})`
        : ')'),
  )
}

/** What the stack runs, for start-up and shutdown alike. */
interface Stack {
  dataDir: string
  logDir: string
  config: StackConfig
  reaper: Reaper
  services: Map<string, RunningService>
  pids: PidFile
  supervisor: Supervisor
  kafka?: StackKafka
  postgres?: PostgresPair
}

/** Starts the services, then hands them, the brokers and both PostgreSQL servers to the supervisor. */
async function superviseAll(
  stack: Stack,
  kafka: StackKafka,
  pair: PostgresPair,
  urls: { primary: string; replica: string; brokers: string },
): Promise<void> {
  const { supervisor, pids } = stack
  const units = serviceSpecs(stack.config, urls).map((spec) =>
    serviceUnit(spec, stack.logDir, stack.reaper, stack.services, pids),
  )
  const first = await Promise.all(units.map((u) => u.start()))
  units.forEach((unit, i) => supervisor.watch(unit, first[i]!.exited))
  for (const node of kafka.nodes) {
    pids.set(node.name, node.server.pid())
    supervisor.watch(kafkaUnit(node.server, node.name, node.logFile, pids), node.server.exited())
  }
  for (const server of ['primary', 'replica'] as const) {
    pids.set(`postgres-${server}`, pair.pid(server))
    supervisor.watch(postgresUnit(pair, server, stack.dataDir, pids), pair.exited(server))
  }
}

/** Writes .data/stack.env (URLs and dev secrets, for the tools) and prints where everything is. */
function announce(stack: Stack, urls: { primary: string; replica: string; brokers: string }): void {
  const { config, dataDir, logDir } = stack
  const { primary, replica, brokers } = urls
  const gatewayUrl = `http://127.0.0.1:${config.gatewayPort}`
  const analyticsUrl = `http://127.0.0.1:${config.analyticsPort}`
  const envFile = join(dataDir, 'stack.env')
  writePrivateFile(
    envFile,
    [
      `DATABASE_URL=${primary}`,
      `ANALYTICS_DATABASE_URL=${replica}`,
      `KAFKA_BROKERS=${brokers}`,
      `GATEWAY_URL=${gatewayUrl}`,
      `ANALYTICS_URL=${analyticsUrl}`,
      `WRITER_URLS=${Array.from({ length: config.writers }, (_, i) => `http://127.0.0.1:${config.writerBasePort + i}`).join(',')}`,
      `INGEST_FLEET_TOKEN=${config.secrets.fleetToken}`,
      `ANALYTICS_API_KEY=${config.secrets.analyticsKey}`,
      '',
    ].join('\n'),
  )
  process.stdout.write(
    [
      '',
      'Energy ingestion stack is up.',
      `  gateway     ${gatewayUrl}   (docs: ${gatewayUrl}/docs)`,
      `  analytics   ${analyticsUrl}   (docs: ${analyticsUrl}/docs)`,
      `  writers     ${config.writers} in consumer group energy-writer (metrics: http://127.0.0.1:${config.writerBasePort}/metrics)`,
      `  PostgreSQL  primary ${primary}`,
      `              replica ${replica}`,
      `  Kafka       ${brokers}`,
      '',
      `  fleet token (dev):   ${config.secrets.fleetToken}`,
      `  analytics key (dev): ${config.secrets.analyticsKey}`,
      `  a device token:      npm run token -- meter METER-001`,
      '',
      `  settings: ${envFile}   logs: ${logDir}`,
      '  A process that exits is restarted; 5 exits within 60 s stop the stack. Ctrl-C stops everything.',
      '',
    ].join('\n'),
  )
}

/** Stops supervising, then the services, then Kafka and PostgreSQL, then whatever else is left. */
async function stopStack(stack: Stack): Promise<void> {
  stack.supervisor.stop()
  say('stopping services…')
  await Promise.all([...stack.services.values()].map((s) => s.proc.stop('SIGTERM', 15_000)))
  say('stopping Kafka and PostgreSQL…')
  await Promise.all([stack.kafka?.stop(), stack.postgres?.stop()])
  // Anything a start-up interrupted half-way left running.
  await stack.reaper.terminateRemaining()
  stack.reaper.dispose()
  say('stopped')
}

/** Starts PostgreSQL and Kafka, prepares the schema and topics, then the supervised services. */
async function startStack(stack: Stack): Promise<void> {
  const { config, dataDir, reaper } = stack
  say(`data in ${dataDir}`)
  const [postgres, kafka] = await Promise.all([
    startPostgresPair({
      dataDir: join(dataDir, 'postgres'),
      primaryPort: config.pgPrimaryPort,
      replicaPort: config.pgReplicaPort,
      fast: false,
      reaper,
    }),
    startStackKafka(config, reaper),
  ])
  stack.postgres = postgres
  stack.kafka = kafka
  const { primary, replica } = await prepareDatabase(postgres, config)
  await prepareTopics(kafka, config)
  const urls = { primary, replica, brokers: kafka.brokers.join(',') }
  await superviseAll(stack, kafka, postgres, urls)
  announce(stack, urls)
}

async function main(): Promise<void> {
  const dataDir = process.env.STACK_DATA_DIR ?? join(repoRoot, '.data')
  mkdirSync(dataDir, { recursive: true })
  const config = loadStackConfig(process.argv.slice(2), process.env, dataDir)
  let stopping = false
  const shutdown = async (code: number) => {
    if (stopping) return
    stopping = true
    await stopStack(stack)
    process.exit(code)
  }
  const stack: Stack = {
    dataDir,
    logDir: join(dataDir, 'logs'),
    config,
    reaper: new Reaper(),
    services: new Map<string, RunningService>(),
    pids: new PidFile(join(dataDir, 'stack.pids.json')),
    supervisor: new Supervisor({
      ...CRASH_LOOP,
      initialBackoffMs: 500,
      maxBackoffMs: 10_000,
      log: say,
      onGiveUp: (unit, reason) => {
        say(`${reason}: a crash loop, not a passing fault. See ${unit.logFile}. Stopping the stack.`)
        void shutdown(1)
      },
    }),
  }
  // process.on, not once: Ctrl-C reaches us twice (from the terminal and forwarded by the launcher).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void shutdown(0))

  try {
    await startStack(stack)
  } catch (err) {
    say(`start failed: ${(err as Error).message}`)
    await shutdown(1)
  }
}

await main()
