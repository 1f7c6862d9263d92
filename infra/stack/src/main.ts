// `npm start`: the whole system on this machine, no Docker. PostgreSQL primary + streaming replica and
// a KRaft Kafka broker with data kept in .data/, migrations, topics, then gateway, writer(s) and
// analytics from their build output. Ctrl-C / SIGTERM stops everything, services first.
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
  startKafka,
  startPostgresPair,
  withDatabase,
  type KafkaServer,
  type PostgresPair,
} from '@energy-ingest/testenv'
import { loadStackConfig, type StackConfig } from './config.js'
import { writePrivateFile } from './private-file.js'
import { startService, waitReady, type RunningService } from './services.js'

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

async function main(): Promise<void> {
  const dataDir = process.env.STACK_DATA_DIR ?? join(repoRoot, '.data')
  mkdirSync(dataDir, { recursive: true })
  const config = loadStackConfig(process.argv.slice(2), process.env, dataDir)
  const reaper = new Reaper()
  const services: RunningService[] = []
  let kafka: KafkaServer | undefined
  let postgres: PostgresPair | undefined
  let stopping = false

  const shutdown = async (code: number) => {
    if (stopping) return
    stopping = true
    say('stopping services…')
    await Promise.all(services.map((s) => s.proc.stop('SIGTERM', 15_000)))
    say('stopping Kafka and PostgreSQL…')
    await Promise.all([kafka?.stop(), postgres?.stop()])
    // Anything a start-up interrupted half-way left running.
    await reaper.terminateRemaining()
    reaper.dispose()
    say('stopped')
    process.exit(code)
  }
  // process.on, not once: Ctrl-C reaches us twice (from the terminal and forwarded by the launcher).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void shutdown(0))

  try {
    say(`data in ${dataDir}`)
    ;[postgres, kafka] = await Promise.all([
      startPostgresPair({
        dataDir: join(dataDir, 'postgres'),
        primaryPort: config.pgPrimaryPort,
        replicaPort: config.pgReplicaPort,
        fast: false,
        reaper,
      }),
      startKafka({
        dataDir: join(dataDir, 'kafka'),
        port: config.kafkaPort,
        controllerPort: config.kafkaControllerPort,
        partitions: config.partitions,
        reaper,
      }),
    ])
    await ensureDatabase(postgres.primaryUrl, config.database)
    const primary = withDatabase(postgres.primaryUrl, config.database)
    const replica = withDatabase(postgres.replicaUrl, config.database)
    const { applied } = await migrate({ connectionString: primary })
    say(applied.length > 0 ? `migrations applied: ${applied.join(', ')}` : 'schema up to date')
    const topics = topicNames(config.topicPrefix)
    await createTopics(
      kafka.brokers,
      [topics.meter, topics.vehicle, topics.assignments, topics.dlq],
      config.partitions,
    )
    say(`topics ready (${config.partitions} partitions)`)

    const brokers = kafka.brokers.join(',')
    for (const spec of serviceSpecs(config, { primary, replica, brokers })) {
      services.push(startService(spec, join(dataDir, 'logs'), reaper))
    }
    await Promise.all(services.map((s) => waitReady(s)))
    for (const s of services) {
      void s.proc.exited.then((code) => {
        if (!stopping) {
          say(`${s.spec.name} exited (code ${code}); see ${s.logFile}. Stopping the stack.`)
          void shutdown(1)
        }
      })
    }

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
        `  settings: ${envFile}   logs: ${join(dataDir, 'logs')}`,
        '  Ctrl-C stops everything.',
        '',
      ].join('\n'),
    )
  } catch (err) {
    say(`start failed: ${(err as Error).message}`)
    await shutdown(1)
  }
}

await main()
