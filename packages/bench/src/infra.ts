import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { topicNames } from '@energy-ingest/contracts'
import { migrate } from '@energy-ingest/db'
import {
  Reaper,
  cacheDir,
  createTopics,
  eventually,
  freePort,
  repoRoot,
  spawnManaged,
  startKafka,
  startPostgresPair,
  withDatabase,
  type KafkaJit,
  type KafkaServer,
  type ManagedProcess,
  type PostgresPair,
} from '@energy-ingest/localstack'
import { PG_STATEMENTS_SETTINGS } from './pg-statements.js'
import { progress } from './report.js'

/** Where a bench sends its load and reads its figures: its own processes, or a running `npm start`. */
export interface Target {
  own: boolean
  gatewayUrl?: string
  analyticsUrl?: string
  primaryUrl?: string
  replicaUrl?: string
  brokers?: string[]
  /** The writers' health/metrics URLs (a running stack lists them). */
  writerUrls?: string[]
  fleetToken: string
  analyticsKey: string
}

/** Where `npm start` writes its URLs and dev credentials (STACK_DATA_DIR, default .data). */
export const stackEnvFile = () => join(process.env.STACK_DATA_DIR ?? join(repoRoot, '.data'), 'stack.env')

/** The URLs and dev credentials `npm start` wrote to .data/stack.env. */
export function readStackEnv(file = stackEnvFile()): Target {
  if (!existsSync(file)) throw new Error(`--stack: ${file} not found (is \`npm start\` running?)`)
  const env = new Map<string, string>()
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0 && !line.startsWith('#')) env.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim())
  }
  const need = (k: string) => {
    const v = env.get(k)
    if (!v) throw new Error(`${file} has no ${k}`)
    return v
  }
  return {
    own: false,
    gatewayUrl: need('GATEWAY_URL'),
    analyticsUrl: need('ANALYTICS_URL'),
    primaryUrl: need('DATABASE_URL'),
    replicaUrl: need('ANALYTICS_DATABASE_URL'),
    brokers: need('KAFKA_BROKERS').split(','),
    writerUrls: env.get('WRITER_URLS')?.split(',').filter(Boolean),
    fleetToken: need('INGEST_FLEET_TOKEN'),
    analyticsKey: need('ANALYTICS_API_KEY'),
  }
}

interface ServiceHandle {
  name: string
  proc: ManagedProcess
  logFile: string
}

/**
 * The processes one bench run owns: Kafka, PostgreSQL primary + replica, services spawned from their
 * build output. `stop()` ends them all (services first); a Reaper cleans up if this process dies.
 */
export class BenchEnvironment {
  readonly fleetToken = `bench-fleet-${randomBytes(12).toString('base64url')}`
  readonly analyticsKey = `bench-analyst-${randomBytes(12).toString('base64url')}`
  readonly tokenSecret = randomBytes(24).toString('base64url')
  readonly logDir = join(cacheDir, 'bench-logs')
  private readonly reaper = new Reaper()
  private readonly services: ServiceHandle[] = []
  private kafka?: KafkaServer
  private postgres?: PostgresPair
  private stopped = false
  brokers: string[] = []
  /** The broker's JVM compilers (`--kafka-jit`): the first only (a fast start), or both. */
  kafkaJit: KafkaJit = 'fast-start'
  primaryUrl = ''
  replicaUrl = ''

  /** Where the services it starts write V8 CPU profiles at exit (`--cpu-prof <dir>`); none if unset. */
  cpuProfDir: string | undefined

  /** `--pg-statements`: PostgreSQL loads pg_stat_statements and the bench database has the extension. */
  pgStatements = false

  constructor() {
    mkdirSync(this.logDir, { recursive: true })
  }

  /** A private single-node Kafka with the four topics. */
  async startKafka(partitions: number): Promise<void> {
    progress(`starting Kafka (${partitions} partitions)…`)
    this.kafka = await startKafka({ partitions, reaper: this.reaper, jit: this.kafkaJit })
    this.brokers = this.kafka.brokers
    const t = topicNames('')
    await createTopics(this.brokers, [t.meter, t.vehicle, t.assignments, t.dlq], partitions)
    progress(`Kafka ready at ${this.brokers.join(',')}`)
  }

  /** PostgreSQL primary + streaming replica, a `bench` database, migrated. */
  async startPostgres(options: { durable: boolean }): Promise<void> {
    progress(`starting PostgreSQL primary + replica (${options.durable ? 'fsync on' : 'fsync off'})…`)
    this.postgres = await startPostgresPair({
      fast: !options.durable,
      reaper: this.reaper,
      ...(this.pgStatements ? { extraSettings: PG_STATEMENTS_SETTINGS } : {}),
    })
    const admin = new pg.Client({ connectionString: this.postgres.primaryUrl })
    await admin.connect()
    try {
      await admin.query('CREATE DATABASE bench')
    } finally {
      await admin.end()
    }
    this.primaryUrl = withDatabase(this.postgres.primaryUrl, 'bench')
    this.replicaUrl = withDatabase(this.postgres.replicaUrl, 'bench')
    await migrate({ connectionString: this.primaryUrl })
    if (this.pgStatements) {
      const bench = new pg.Client({ connectionString: this.primaryUrl })
      await bench.connect()
      await bench.query('CREATE EXTENSION pg_stat_statements').finally(() => bench.end())
    }
    progress(`PostgreSQL ready: primary ${this.primaryUrl}, replica ${this.replicaUrl}`)
  }

  /** The server's admin URL (database `postgres`), for benches that create their own databases. */
  get adminUrl(): string {
    if (!this.postgres) throw new Error('PostgreSQL not started')
    return this.postgres.primaryUrl
  }

  /** Spawns `node <entry>` (a built service) with `env`, and waits for its /health/ready. */
  async startProcess(
    name: string,
    entry: string,
    env: Record<string, string>,
    port: number,
  ): Promise<string> {
    if (!existsSync(entry)) throw new Error(`${entry} missing: run \`npm run build\` first`)
    const logFile = join(this.logDir, `${name}.log`)
    // --cpu-prof <dir>: each service writes a V8 CPU profile there when it exits (the profile bench reads them).
    const prof = this.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${this.cpuProfDir}`] : []
    const proc = spawnManaged(process.execPath, [...prof, entry], {
      name,
      logFile,
      cwd: repoRoot,
      env: {
        ...process.env,
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        ...env,
      },
    })
    this.reaper.trackPid(proc.pid)
    this.services.push({ name, proc, logFile })
    const url = `http://127.0.0.1:${port}`
    await eventually(
      async () => {
        if (!proc.isRunning()) throw new Error(`${name} exited; see ${logFile}`)
        const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) }).catch(
          () => undefined,
        )
        return res?.status === 200
      },
      { timeoutMs: 60_000, intervalMs: 200, message: `${name} ready (log: ${logFile})` },
    )
    progress(`${name} ready at ${url} (log: ${logFile})`)
    return url
  }

  /** `node services/<service>/dist/main.js`, as infra/stack does. */
  startService(
    name: string,
    service: 'gateway' | 'writer' | 'analytics',
    env: Record<string, string>,
    port: number,
  ): Promise<string> {
    return this.startProcess(name, join(repoRoot, 'services', service, 'dist', 'main.js'), env, port)
  }

  async startGateway(extraEnv: Record<string, string> = {}): Promise<string> {
    const port = await freePort()
    return this.startService(
      'gateway',
      'gateway',
      {
        PORT: String(port),
        KAFKA_BROKERS: this.brokers.join(','),
        INGEST_TOKEN_SECRET: this.tokenSecret,
        INGEST_FLEET_TOKENS: this.fleetToken,
        ...extraEnv,
      },
      port,
    )
  }

  async startWriter(index: number, extraEnv: Record<string, string> = {}): Promise<string> {
    const port = await freePort()
    return this.startService(
      `writer-${index}`,
      'writer',
      {
        WRITER_PORT: String(port),
        DATABASE_URL: this.primaryUrl,
        KAFKA_BROKERS: this.brokers.join(','),
        ...extraEnv,
      },
      port,
    )
  }

  async startAnalytics(extraEnv: Record<string, string> = {}): Promise<string> {
    const port = await freePort()
    return this.startService(
      'analytics',
      'analytics',
      {
        PORT: String(port),
        ANALYTICS_DATABASE_URL: this.replicaUrl,
        ANALYTICS_API_KEYS: this.analyticsKey,
        ...extraEnv,
      },
      port,
    )
  }

  /** Services first (graceful, 15 s each at most), then Kafka and PostgreSQL. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await Promise.all(this.services.map((s) => s.proc.stop('SIGTERM', 15_000)))
    await Promise.all([this.kafka?.stop(), this.postgres?.stop()])
    this.reaper.dispose()
  }
}
