// The in-process pipeline the end-to-end tests run: fresh topics and a database cloned from the
// migrated template, then the gateway, a writer and analytics (on the replica) wired to them, with
// test tokens derived from the test's name and, optionally, one clock shared by all three.
import { topicNames } from '@energy-ingest/contracts'
import * as analytics from '@energy-ingest/analytics'
import * as gateway from '@energy-ingest/gateway'
import * as writer from '@energy-ingest/writer'
import {
  createTestDatabase,
  createTopics,
  testTopicPrefix,
  uniqueName,
  type TestDatabase,
} from '@energy-ingest/testenv'
import pg from 'pg'
import { inject } from 'vitest'

export interface PipelineOptions {
  /** Names the tokens (`<name>-fleet-token`, `<name>-analytics-key`) and the writer's group. */
  name: string
  /** Partitions of the test's topics; the writer expects as many. */
  partitions: number
  /** Every service's clock (ms); default: the real one. */
  now?: () => number
  /** The gateway and analytics listen on 127.0.0.1 (their URLs in `urls`); default: inject only. */
  listen?: boolean
  /** Writer settings beyond the harness's. */
  writerEnv?: Record<string, string>
  /** Runs on the database (through `primary`) before any service starts, e.g. to move watermarks. */
  prepare?: (primary: pg.Pool) => Promise<void>
}

export interface Pipeline {
  db: TestDatabase
  /** A small pool on the primary for the test's own queries. */
  primary: pg.Pool
  gw: gateway.App
  wr: writer.Writer
  an: analytics.App
  /** Bearer tokens: the gateway's fleet token and analytics' API key. */
  fleetToken: string
  apiKey: string
  urls: { gateway: string; analytics: string }
  /** Stops the services, then drops the database. */
  close(): Promise<void>
}

/** Starts the pipeline; on a failure it stops what had started and rethrows. */
export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const env = inject('testenv')
  const prefix = testTopicPrefix()
  const t = topicNames(prefix)
  await createTopics(env.kafkaBrokers, [t.meter, t.vehicle, t.assignments, t.dlq], options.partitions)
  const db = await createTestDatabase(env)
  const primary = new pg.Pool({ connectionString: db.url, max: 2 })
  const started: Partial<Pick<Pipeline, 'gw' | 'wr' | 'an'>> = {}
  const close = async () => {
    await started.gw?.close()
    await started.wr?.stop()
    await started.an?.close()
    await primary.end()
    await db.drop()
  }
  try {
    await options.prepare?.(primary)
    const services = await startServices(options, { brokers: env.kafkaBrokers, prefix, db }, started)
    return { db, primary, ...services, close }
  } catch (err) {
    await close()
    throw err
  }
}

/** The gateway, a writer and analytics, each put into `started` as soon as it runs. */
async function startServices(
  options: PipelineOptions,
  at: { brokers: string[]; prefix: string; db: TestDatabase },
  started: Partial<Pick<Pipeline, 'gw' | 'wr' | 'an'>>,
): Promise<Omit<Pipeline, 'db' | 'primary' | 'close'>> {
  const { name, now } = options
  const clock = now ? { now } : {}
  const fleetToken = `${name}-fleet-token`
  const apiKey = `${name}-analytics-key`
  const kafka = { KAFKA_BROKERS: at.brokers.join(','), KAFKA_TOPIC_PREFIX: at.prefix, LOG_LEVEL: 'silent' }
  const urls = { gateway: '', analytics: '' }
  const gw = (started.gw = await gateway.buildApp(
    gateway.loadConfig({
      ...kafka,
      INGEST_TOKEN_SECRET: `${name}-secret-0123456789abcdef`,
      INGEST_FLEET_TOKENS: fleetToken,
    }),
    { logger: false, ...clock },
  ))
  if (options.listen) urls.gateway = await gw.listen({ host: '127.0.0.1', port: 0 })
  else await gw.ready()
  const wr = (started.wr = await writer.createWriter(
    writer.loadConfig({
      ...kafka,
      DATABASE_URL: at.db.url,
      KAFKA_GROUP_ID: uniqueName(name),
      KAFKA_PARTITIONS: String(options.partitions),
      WRITER_PORT: '0',
      HOST: '127.0.0.1',
      ...options.writerEnv,
    }),
    now ? { now: () => new Date(now()) } : {},
  ))
  await wr.start()
  const an = (started.an = await analytics.buildApp(
    analytics.loadConfig({ ANALYTICS_DATABASE_URL: at.db.replicaUrl, ANALYTICS_API_KEYS: apiKey }),
    { logger: false, ...clock },
  ))
  if (options.listen) urls.analytics = await an.listen({ host: '127.0.0.1', port: 0 })
  return { gw, wr, an, fleetToken, apiKey, urls }
}
