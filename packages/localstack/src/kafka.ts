import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Kafka, logLevel, type Admin } from 'kafkajs'
import { DEFAULT_PARTITIONS } from '@energy-ingest/contracts'
import { cacheDir, repoRoot } from './paths.js'
import { eventually } from './eventually.js'
import { freePort, log, runToCompletion, spawnManaged, tail, type ManagedProcess } from './process.js'
import { ownership, type Reaper } from './reaper.js'

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
  /**
   * `fast-start` (default): the JVM's first compiler only, which halves the start on a small machine
   * (tests, `npm start`). `steady`: both compilers, for a broker measured under sustained load (the
   * benchmarks): the first compiler alone costs the broker more CPU per produced byte.
   */
  jit?: KafkaJit
}

export type KafkaJit = 'fast-start' | 'steady'

export function clusterId(): string {
  // A KRaft cluster id is a base64url UUID. Like Kafka's own Uuid.randomUuid(), never start it with
  // '-': the storage tool's argument parser would take it for an option (1 run in 64 failed so).
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

/**
 * `text` (a .properties file) with each key of `overrides` set: its line replaced, or appended when
 * absent. The cluster's settings are applied this way on top of infra/kafka/server.properties, which
 * the Kafka image fills in too and so keeps its single-node placeholders.
 */
export function withProperties(text: string, overrides: Record<string, string>): string {
  const left = new Map(Object.entries(overrides))
  const lines = text
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => {
      const key = /^([A-Za-z0-9._-]+)=/.exec(line)?.[1]
      if (key === undefined || !left.has(key)) return line
      const value = left.get(key)!
      left.delete(key)
      return `${key}=${value}`
    })
  return [...lines, ...[...left].map(([k, v]) => `${k}=${v}`), ''].join('\n')
}

/** One KRaft node of a broker or a cluster: its ports, data folder and settings beyond the file's. */
export interface NodeSpec {
  nodeId: number
  port: number
  controllerPort: number
  dataDir: string
  partitions: number
  /** Settings over infra/kafka/server.properties (quorum voters, replication factors). */
  overrides: Record<string, string>
  /** Formats the log folder with this id when it has never been formatted. */
  clusterId: string
  reaper?: Reaper
  jit?: KafkaJit
}

/** The broker's settings file for `node`, written into its data folder; returns its path. */
function writeNodeConfig(node: NodeSpec): string {
  const config = readFileSync(join(kafkaInfra, 'server.properties'), 'utf8')
    .replaceAll('${BROKER_PORT}', String(node.port))
    .replaceAll('${CONTROLLER_PORT}', String(node.controllerPort))
    .replaceAll('${LOG_DIR}', join(node.dataDir, 'log'))
    .replaceAll('${NUM_PARTITIONS}', String(node.partitions))
  const configFile = join(node.dataDir, 'server.properties')
  writeFileSync(configFile, withProperties(config, { 'node.id': String(node.nodeId), ...node.overrides }))
  return configFile
}

const javaEnv = () => ({ ...process.env, KAFKA_HEAP_OPTS: '', KAFKA_OPTS: '' })

/** Formats `node`'s log folder with its cluster id, unless it has been formatted before. */
async function formatOnce(node: NodeSpec, classpath: string, configFile: string): Promise<void> {
  if (existsSync(join(node.dataDir, 'log', 'meta.properties'))) return
  await runToCompletion(
    'java',
    [
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      `--cluster-id=${node.clusterId}`,
      '-c',
      configFile,
    ],
    { env: javaEnv() },
  )
}

/** The broker's JVM arguments. */
const brokerJavaArgs = (classpath: string, configFile: string, jit: KafkaJit = 'fast-start') => [
  '-Xms256m',
  '-Xmx512m',
  // C1 only: start-up is CPU-bound on small machines; halves start time, no produce loss.
  ...(jit === 'fast-start' ? ['-XX:TieredStopAtLevel=1'] : []),
  '-XX:+UseG1GC',
  '-Djava.awt.headless=true',
  `-Dlog4j2.configurationFile=${join(kafkaInfra, 'log4j2.properties')}`,
  '-cp',
  classpath,
  'kafka.Kafka',
  configFile,
]

/** Waits until the broker `proc` runs answers on `port`; fails with its log's tail when it exits. */
async function waitForBroker(
  proc: ManagedProcess,
  port: number,
  logFile: string,
  options: { name: string; startTimeoutMs?: number },
): Promise<void> {
  await eventually(
    async () => {
      if (!proc.isRunning()) throw new Error(`${options.name} exited during start-up:\n${tail(logFile)}`)
      return await brokerAnswers([`127.0.0.1:${port}`])
    },
    {
      timeoutMs: options.startTimeoutMs ?? 90_000,
      intervalMs: 250,
      message: `${options.name} on port ${port}`,
    },
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n--- ${logFile} ---\n${tail(logFile)}`)
  })
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`

/**
 * One Kafka process on `node`'s folder and ports, formatted on first use, with the KafkaServer
 * controls; `startNow: false` leaves the first start to the caller (a cluster starts its nodes at once).
 */
export async function startKafkaNode(
  libs: string,
  node: NodeSpec,
  options: { name: string; startNow: boolean; startTimeoutMs?: number },
): Promise<KafkaServer> {
  mkdirSync(node.dataDir, { recursive: true })
  const configFile = writeNodeConfig(node)
  const classpath = `${libs}/*`
  const logFile = join(node.dataDir, 'kafka.log')
  await formatOnce(node, classpath, configFile)
  let proc: ManagedProcess | undefined
  const brokers = [`127.0.0.1:${node.port}`]
  const start = async () => {
    if (proc?.isRunning()) return
    proc = spawnManaged('java', brokerJavaArgs(classpath, configFile, node.jit), {
      name: options.name,
      logFile,
      env: javaEnv(),
    })
    node.reaper?.trackPid(proc.pid)
    const started = Date.now()
    await waitForBroker(proc, node.port, logFile, options)
    log(`${options.name} (Kafka ${kafkaVersion()}) ready on ${brokers[0]} in ${seconds(started)}`)
  }
  const stopWith = async (how: 'stop' | 'kill') => {
    const current = proc
    if (!current) return
    if (how === 'stop') await current.stop('SIGTERM', 20_000)
    else await current.kill()
    node.reaper?.untrackPid(current.pid)
  }
  if (options.startNow) await start()
  return {
    brokers,
    port: node.port,
    dataDir: node.dataDir,
    start,
    stop: () => stopWith('stop'),
    kill: () => stopWith('kill'),
    exited: () => proc?.exited ?? Promise.resolve(null),
    pid: () => (proc?.isRunning() ? proc.pid : undefined),
    close: () => stopWith('stop'),
  }
}

/** Starts a real single-node KRaft Kafka broker (broker + controller) on 127.0.0.1. */
export async function startKafka(options: KafkaOptions = {}): Promise<KafkaServer> {
  const libs = await ensureKafkaLibs()
  const owned = ownership(options, () => mkdtempSync(join(cacheDir, 'tmp-kafka-')))
  const port = options.port ?? (await freePort())
  const controllerPort = options.controllerPort ?? (await freePort())
  const node = await startKafkaNode(
    libs,
    {
      nodeId: 1,
      port,
      controllerPort,
      dataDir: owned.dataDir,
      partitions: options.partitions ?? DEFAULT_PARTITIONS,
      overrides: { 'controller.quorum.voters': `1@127.0.0.1:${controllerPort}` },
      clusterId: clusterId(),
      reaper: owned.reaper,
      ...(options.jit ? { jit: options.jit } : {}),
    },
    { name: 'kafka', startNow: true },
  )
  return {
    ...node,
    async close() {
      await node.stop()
      owned.release()
    },
  }
}

/**
 * `ask(admin)` on a one-shot admin client (1 s to connect, 3 s a request, no retries); false when the
 * broker does not answer or `ask` throws.
 */
export async function probeAdmin(
  brokers: string[],
  ask: (admin: Admin) => Promise<boolean>,
): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'localstack-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  }).admin()
  try {
    await admin.connect()
    return await ask(admin)
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/** Whether a broker at `brokers` answers a metadata request now. */
export async function brokerAnswers(brokers: string[]): Promise<boolean> {
  return await probeAdmin(brokers, async (admin) => {
    await admin.listTopics()
    return true
  })
}
