import {
  Reaper,
  startKafka,
  startPostgresPair,
  type KafkaOptions,
  type KafkaServer,
} from '@energy-ingest/localstack'
import { containerRuntimeAvailable, startContainers, startKafkaInContainer } from './containers.js'
import { log } from './log.js'

export type TestenvMode = 'containers' | 'local' | 'auto'

export interface Environment {
  mode: 'containers' | 'local'
  kafkaBrokers: string[]
  primaryUrl: string
  replicaUrl: string
  /** Stops everything this environment started and removes its folders. Safe to call twice. */
  stop(): Promise<void>
}

export function parseMode(value: string | undefined): TestenvMode {
  const mode = value ?? 'auto'
  if (mode === 'containers' || mode === 'local' || mode === 'auto') return mode
  throw new Error(`TESTENV must be containers, local or auto (got "${mode}")`)
}

/**
 * A real Kafka broker and a PostgreSQL primary + streaming replica. `containers` uses testcontainers
 * on the project's own images (Dockerfile targets postgres and kafka),
 * `local` starts the processes on this machine (Kafka jars from Maven Central, PostgreSQL from npm),
 * `auto` (default) picks containers when a Docker engine answers, else local.
 */
export async function startEnvironment(
  mode: TestenvMode = parseMode(process.env.TESTENV),
): Promise<Environment> {
  const useContainers = mode === 'containers' || (mode === 'auto' && (await containerRuntimeAvailable(5_000)))
  if (useContainers) {
    log(`TESTENV: containers${mode === 'auto' ? ' (a Docker engine answered)' : ''}`)
    const reaper = new Reaper()
    let infra: Awaited<ReturnType<typeof startContainers>>
    try {
      infra = await startContainers(reaper)
    } catch (err) {
      reaper.dispose()
      throw err
    }
    let stopped = false
    return {
      mode: 'containers',
      kafkaBrokers: infra.kafkaBrokers,
      primaryUrl: infra.primaryUrl,
      replicaUrl: infra.replicaUrl,
      async stop() {
        if (stopped) return
        stopped = true
        await infra.stop()
        reaper.dispose()
      },
    }
  }
  log(`TESTENV: local processes${mode === 'auto' ? ' (no Docker engine answered)' : ''}`)
  const reaper = new Reaper()
  const results = await Promise.allSettled([
    startKafka({ reaper }),
    startPostgresPair({ reaper, fast: true }),
  ])
  const [kafka, postgres] = results
  if (kafka.status === 'rejected' || postgres.status === 'rejected') {
    if (kafka.status === 'fulfilled') await kafka.value.stop()
    if (postgres.status === 'fulfilled') await postgres.value.stop()
    reaper.dispose()
    throw kafka.status === 'rejected' ? kafka.reason : (postgres as PromiseRejectedResult).reason
  }
  let stopped = false
  return {
    mode: 'local',
    kafkaBrokers: kafka.value.brokers,
    primaryUrl: postgres.value.primaryUrl,
    replicaUrl: postgres.value.replicaUrl,
    async stop() {
      if (stopped) return
      stopped = true
      await Promise.all([kafka.value.stop(), postgres.value.stop()])
      reaper.dispose()
    },
  }
}

/**
 * A broker of a test's own (one it may stop, kill and restart), in the environment's mode: a local
 * process, or a container of the Kafka image.
 */
export async function startPrivateKafka(
  mode: 'containers' | 'local',
  options: Pick<KafkaOptions, 'partitions'> = {},
): Promise<KafkaServer> {
  return mode === 'containers' ? await startKafkaInContainer(options) : await startKafka(options)
}
