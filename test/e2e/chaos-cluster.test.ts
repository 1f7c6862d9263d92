// Fault (f): one broker of a three-node KRaft cluster SIGKILLed under a stream, later restarted. Topics
// have three copies and min.insync.replicas=2, and the gateway produces with acks=-1: with two of three
// brokers the gateway goes on acknowledging (202), nothing acknowledged is lost, and the writer carries
// on without exiting. Its own cluster and PostgreSQL pair; 3 broker JVMs, so it runs alone in its file.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as analytics from '@energy-ingest/analytics'
import { topicNames } from '@energy-ingest/contracts'
import { migrate } from '@energy-ingest/db'
import * as gateway from '@energy-ingest/gateway'
import {
  createTopics,
  eventually,
  partitionReplicas,
  startKafkaCluster,
  startPostgresPair,
  type KafkaCluster,
  type PostgresPair,
} from '@energy-ingest/testenv'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  FLEET,
  KEY,
  Stream,
  SupervisedWriter,
  allReady,
  expectExact,
  type Services,
} from './chaos-harness.js'

const PARTITIONS = 4
const logDir = mkdtempSync(join(tmpdir(), 'chaos-cluster-'))
const t = topicNames('')

let pair: PostgresPair
let cluster: KafkaCluster
let s: Services

/** Partition leaders and in-sync replica counts of the meter and vehicle topics. */
async function partitionState(): Promise<{ leaders: number[]; isr: number[] }> {
  const partitions = await partitionReplicas(cluster.brokers, [t.meter, t.vehicle])
  return { leaders: partitions.map((p) => p.leader), isr: partitions.map((p) => p.isr.length) }
}

async function storedCount(): Promise<number> {
  const { rows } = await s.primary.query<{ n: string }>(
    'SELECT (SELECT count(*) FROM meter_history) + (SELECT count(*) FROM vehicle_history) AS n',
  )
  return Number(rows[0]!.n)
}

beforeAll(async () => {
  ;[pair, cluster] = await Promise.all([
    startPostgresPair({ fast: true }),
    startKafkaCluster({ nodes: 3, partitions: PARTITIONS }),
  ])
  await migrate({ connectionString: pair.primaryUrl })
  await createTopics(cluster.brokers, [t.meter, t.vehicle, t.assignments, t.dlq], PARTITIONS, {
    replicationFactor: 3,
    minInsyncReplicas: 2,
  })
  const primary = new pg.Pool({ connectionString: pair.primaryUrl, max: 2 })
  const brokers = cluster.brokers.join(',')
  const gw = await gateway.buildApp(
    gateway.loadConfig({
      KAFKA_BROKERS: brokers,
      INGEST_TOKEN_SECRET: 'chaos-secret-0123456789abcdef',
      INGEST_FLEET_TOKENS: FLEET,
      LOG_LEVEL: 'silent',
    }),
    { logger: false },
  )
  await gw.ready()
  const writer = await SupervisedWriter.start(
    {
      DATABASE_URL: pair.primaryUrl,
      KAFKA_BROKERS: brokers,
      KAFKA_PARTITIONS: String(PARTITIONS),
      KAFKA_GROUP_ID: 'chaos-writer',
      KAFKA_MAX_WAIT_MS: '100',
      KAFKA_MAX_BYTES_PER_PARTITION: '16384',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    },
    logDir,
  )
  const an = await analytics.buildApp(
    analytics.loadConfig({ ANALYTICS_DATABASE_URL: pair.replicaUrl, ANALYTICS_API_KEYS: KEY }),
    { logger: false },
  )
  s = { gw, an, writer, primary }
  await allReady(s)
}, 300_000)

afterAll(async () => {
  await s?.gw.close()
  await s?.writer.stop()
  await s?.an.close()
  await s?.primary.end()
  await Promise.all([cluster?.close(), pair?.stop()])
  if (!process.env.KEEP_CHAOS_LOGS) rmSync(logDir, { recursive: true, force: true })
})

describe('a three-broker cluster under a stream of readings', () => {
  it('(f) one of three brokers SIGKILLed and later restarted: 202s go on, nothing is lost', async () => {
    const stream = new Stream(s.gw)
    const starts = s.writer.starts
    expect((await partitionState()).isr.every((n) => n === 3)).toBe(true)
    stream.start()
    await stream.more(200, 'readings accepted before the fault')
    // The leader of the first meter partition: its partitions must move to the other two.
    const victim = (await partitionState()).leaders[0]!
    const node = cluster.nodes[victim - 1]!
    await node.kill()
    await eventually(async () => !(await partitionState()).leaders.includes(victim), {
      timeoutMs: 60_000,
      intervalMs: 250,
      message: `leadership moved off broker ${victim}`,
    })
    await stream.more(600, 'readings accepted with two of three brokers')
    const acceptedWhileDown = stream.accepted
    await eventually(async () => (await storedCount()) >= acceptedWhileDown, {
      timeoutMs: 120_000,
      intervalMs: 250,
      message: 'the writer stores what was accepted while a broker is down',
    })
    await node.start()
    await eventually(async () => (await partitionState()).isr.every((n) => n === 3), {
      timeoutMs: 120_000,
      intervalMs: 500,
      message: `broker ${victim} back in every ISR`,
    })
    await stream.more(200, 'readings accepted after the restart')
    await stream.stop()
    await expectExact(s, stream)
    expect(s.writer.starts, 'the writer rode out the broker loss without exiting').toBe(starts)
    process.stderr.write(`(f) gateway 503s during the broker loss: ${stream.refusals}\n`)
  }, 600_000)
})
