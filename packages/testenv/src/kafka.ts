import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { cacheDir, repoRoot } from './paths.js'
import { eventually } from './eventually.js'
import { freePort, log, runToCompletion, spawnManaged, tail, type ManagedProcess } from './process.js'
import { Reaper } from './reaper.js'

const kafkaInfra = join(repoRoot, 'infra', 'kafka')

export function kafkaVersion(): string {
  const pom = readFileSync(join(kafkaInfra, 'pom.xml'), 'utf8')
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)
  if (!match?.[1]) throw new Error('infra/kafka/pom.xml has no <kafka.version>')
  return match[1]
}

/**
 * The broker's jars, resolved from Maven Central by `mvn` on first use into .cache/kafka/<version>/libs.
 * Resolution goes to a temp folder renamed into place, so a concurrent or interrupted run never sees
 * half a classpath.
 */
export async function ensureKafkaLibs(): Promise<string> {
  const version = kafkaVersion()
  const versionDir = join(cacheDir, 'kafka', version)
  const libs = join(versionDir, 'libs')
  if (existsSync(join(libs, '.complete'))) return libs
  mkdirSync(versionDir, { recursive: true })
  const staging = mkdtempSync(join(versionDir, 'resolving-'))
  log(`resolving Apache Kafka ${version} jars with Maven (first run only, ~45 MB)…`)
  const started = Date.now()
  try {
    await runToCompletion(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        join(kafkaInfra, 'pom.xml'),
        'dependency:copy-dependencies',
        `-DoutputDirectory=${staging}`,
        '-DincludeScope=runtime',
      ],
      { timeoutMs: 600_000 },
    )
    writeFileSync(join(staging, '.complete'), version)
    if (!existsSync(join(libs, '.complete'))) {
      rmSync(libs, { recursive: true, force: true })
      renameSync(staging, libs)
    }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
  log(`Kafka jars ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return libs
}

export interface KafkaServer {
  readonly brokers: string[]
  readonly port: number
  readonly dataDir: string
  /** Graceful stop (SIGTERM); the data stays, `start()` brings the same broker back on the same port. */
  stop(): Promise<void>
  start(): Promise<void>
  /** SIGKILL: a crash. */
  kill(): Promise<void>
  /** Settles when the broker process now running exits (at once when none runs). */
  exited(): Promise<number | null>
  /** The broker's process id while it runs (to pause it with SIGSTOP, as a hung broker). */
  pid(): number | undefined
  /** Stops for good and removes what this server created (its temp data folder). */
  close(): Promise<void>
}

export interface KafkaOptions {
  /** Keep data here across runs (the dev stack); default: a temp folder removed on stop. */
  dataDir?: string
  port?: number
  controllerPort?: number
  partitions?: number
  reaper?: Reaper
}

export function clusterId(): string {
  // A KRaft cluster id is a base64url UUID. Like Kafka's own Uuid.randomUuid(), never start it with
  // '-': the storage tool's argument parser would take it for an option (1 run in 64 failed so).
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

/** Starts a real single-node KRaft Kafka broker (broker + controller) on 127.0.0.1. */
export async function startKafka(options: KafkaOptions = {}): Promise<KafkaServer> {
  const libs = await ensureKafkaLibs()
  // Without a caller's reaper, one of its own: a killed owner still leaves no broker or folder behind.
  const ownReaper = options.reaper === undefined ? new Reaper() : undefined
  const reaper = options.reaper ?? ownReaper
  options = { ...options, reaper }
  const ownsDir = options.dataDir === undefined
  const dataDir = options.dataDir ?? mkdtempSync(join(cacheDir, 'tmp-kafka-'))
  if (ownsDir) options.reaper?.trackDir(dataDir)
  mkdirSync(dataDir, { recursive: true })
  const port = options.port ?? (await freePort())
  const controllerPort = options.controllerPort ?? (await freePort())
  const logDir = join(dataDir, 'log')
  const config = readFileSync(join(kafkaInfra, 'server.properties'), 'utf8')
    .replaceAll('${BROKER_PORT}', String(port))
    .replaceAll('${CONTROLLER_PORT}', String(controllerPort))
    .replaceAll('${LOG_DIR}', logDir)
    .replaceAll('${NUM_PARTITIONS}', String(options.partitions ?? 12))
  const configFile = join(dataDir, 'server.properties')
  writeFileSync(configFile, config)
  const classpath = `${libs}/*`
  const logFile = join(dataDir, 'kafka.log')
  const env = { ...process.env, KAFKA_HEAP_OPTS: '', KAFKA_OPTS: '' }
  if (!existsSync(join(logDir, 'meta.properties'))) {
    await runToCompletion(
      'java',
      [
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        `--cluster-id=${clusterId()}`,
        '-c',
        configFile,
      ],
      { env },
    )
  }

  let proc: ManagedProcess | undefined
  const brokers = [`127.0.0.1:${port}`]
  const start = async () => {
    if (proc?.isRunning()) return
    proc = spawnManaged(
      'java',
      [
        '-Xms256m',
        '-Xmx512m',
        // C1 only: start-up is CPU-bound on small machines; halves start time, no produce loss.
        '-XX:TieredStopAtLevel=1',
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${join(kafkaInfra, 'log4j2.properties')}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        configFile,
      ],
      { name: 'kafka', logFile, env },
    )
    const current = proc
    options.reaper?.trackPid(current.pid)
    const started = Date.now()
    await eventually(
      async () => {
        if (!current.isRunning()) throw new Error(`Kafka exited during start-up:\n${tail(logFile)}`)
        return await brokerAnswers(brokers)
      },
      { timeoutMs: 90_000, intervalMs: 250, message: `Kafka on port ${port}` },
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n--- kafka.log ---\n${tail(logFile)}`)
    })
    log(`Kafka ${kafkaVersion()} ready on ${brokers[0]} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  }
  const stopWith = async (how: 'stop' | 'kill') => {
    const current = proc
    if (!current) return
    if (how === 'stop') await current.stop('SIGTERM', 20_000)
    else await current.kill()
    options.reaper?.untrackPid(current.pid)
  }
  await start()
  return {
    brokers,
    port,
    dataDir,
    start,
    stop: () => stopWith('stop'),
    kill: () => stopWith('kill'),
    exited: () => proc?.exited ?? Promise.resolve(null),
    pid: () => (proc?.isRunning() ? proc.pid : undefined),
    async close() {
      await stopWith('stop')
      if (ownReaper) ownReaper.dispose()
      else if (ownsDir) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Whether a broker at `brokers` answers a metadata request now. */
export async function brokerAnswers(brokers: string[]): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'testenv-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  }).admin()
  try {
    await admin.connect()
    await admin.listTopics()
    return true
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/**
 * Creates topics (idempotent) and waits until every partition has a leader. Retried: while another
 * client creates topics at the same moment, the broker can answer "does not host this
 * topic-partition" for a topic that is a few milliseconds from ready.
 */
export async function createTopics(brokers: string[], topics: string[], partitions = 12): Promise<void> {
  const admin = new Kafka({ clientId: 'testenv-admin', brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await eventually(
      async () => {
        const existing = new Set(await admin.listTopics())
        const missing = topics.filter((t) => !existing.has(t))
        if (missing.length > 0) {
          await admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
          })
        }
        const { topics: meta } = await admin.fetchTopicMetadata({ topics })
        return meta.length === topics.length && meta.every((t) => t.partitions.every((p) => p.leader >= 0))
      },
      { timeoutMs: 30_000, intervalMs: 200, message: `topics ${topics.join(', ')}` },
    )
  } finally {
    await admin.disconnect()
  }
}
