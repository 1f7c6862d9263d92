// Routine faults under a steady stream: readings flow device -> gateway -> Kafka -> writer process ->
// PostgreSQL primary -> replica -> analytics while the test kills, restarts, crashes and hangs the
// servers. Its own broker and PostgreSQL pair (it restarts them), and the writer as a real process that
// the test restarts whenever it exits, as the stack's supervisor does. After each fault: every service
// is ready again without help, history holds exactly the accepted readings (no loss, no duplicate),
// rollups equal raw history and live rows are the newest readings. Needs services/writer/dist (npm test
// builds it first).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { topicNames } from '@energy-ingest/contracts'
import { migrate } from '@energy-ingest/db'
import * as analytics from '@energy-ingest/analytics'
import * as gateway from '@energy-ingest/gateway'
import {
  createTopics,
  eventually,
  startKafka,
  startPostgresPair,
  type KafkaServer,
  type PostgresPair,
} from '@energy-ingest/testenv'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  FLEET,
  KEY,
  Stream,
  SupervisedWriter,
  allReady as allReadyOf,
  expectExact as expectExactOf,
  ready,
  type Services,
} from './chaos-harness.js'

const PARTITIONS = 4
const logDir = mkdtempSync(join(tmpdir(), 'chaos-'))

let pair: PostgresPair
let kafka: KafkaServer
let primary: pg.Pool
let gw: gateway.App
let an: analytics.App
let writer: SupervisedWriter
const services = (): Services => ({ gw, an, writer, primary })
const allReady = () => allReadyOf(services())
const expectExact = (stream: Stream) => expectExactOf(services(), stream)

beforeAll(async () => {
  ;[pair, kafka] = await Promise.all([
    startPostgresPair({ fast: true }),
    startKafka({ partitions: PARTITIONS }),
  ])
  await migrate({ connectionString: pair.primaryUrl })
  const t = topicNames('')
  await createTopics(kafka.brokers, [t.meter, t.vehicle, t.assignments, t.dlq], PARTITIONS)
  primary = new pg.Pool({ connectionString: pair.primaryUrl, max: 2 })
  primary.on('error', () => {}) // the primary is restarted on purpose; a dropped idle client is fine
  const brokers = kafka.brokers.join(',')
  gw = await gateway.buildApp(
    gateway.loadConfig({
      KAFKA_BROKERS: brokers,
      INGEST_TOKEN_SECRET: 'chaos-secret-0123456789abcdef',
      INGEST_FLEET_TOKENS: FLEET,
      LOG_LEVEL: 'silent',
    }),
    { logger: false },
  )
  await gw.ready()
  writer = await SupervisedWriter.start(
    {
      DATABASE_URL: pair.primaryUrl,
      KAFKA_BROKERS: brokers,
      KAFKA_PARTITIONS: String(PARTITIONS),
      KAFKA_GROUP_ID: 'chaos-writer',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
      KAFKA_MAX_WAIT_MS: '100',
      KAFKA_MAX_BYTES_PER_PARTITION: '16384',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    },
    logDir,
  )
  an = await analytics.buildApp(
    analytics.loadConfig({ ANALYTICS_DATABASE_URL: pair.replicaUrl, ANALYTICS_API_KEYS: KEY }),
    { logger: false },
  )
  await allReady()
}, 300_000)

afterAll(async () => {
  await gw?.close()
  await writer?.stop()
  await an?.close()
  await primary?.end()
  await Promise.all([kafka?.close(), pair?.stop()])
  if (!process.env.KEEP_CHAOS_LOGS) rmSync(logDir, { recursive: true, force: true })
})

describe('routine faults under a stream of readings', () => {
  let stream: Stream
  beforeAll(() => {
    stream = new Stream(gw)
  })

  it('(a) the writer SIGKILLed 5 times at random points', async () => {
    stream.start()
    for (let i = 0; i < 5; i++) {
      await stream.more(200 + Math.floor(Math.random() * 400), 'readings accepted before a kill')
      await writer.kill()
    }
    await writer.running()
    await stream.more(400, 'readings accepted after the kills')
    await stream.stop()
    expect(writer.starts).toBeGreaterThanOrEqual(6)
    await expectExact(stream)
  }, 600_000)

  it('(b) the primary restarted fast, and (c) crashed', async () => {
    const starts = writer.starts
    stream.start()
    for (const how of ['fast', 'immediate'] as const) {
      await stream.more(200, 'readings accepted before the fault')
      await pair.stopServer('primary', how)
      await stream.more(400, 'readings accepted while the primary is down')
      await pair.restart('primary')
      await stream.more(200, 'readings accepted after the restart')
    }
    await stream.stop()
    await expectExact(stream)
    expect(writer.starts, 'the writer rode out the database faults without exiting').toBe(starts)
  }, 600_000)

  it('(d) the replica restarted: analytics answers 503 meanwhile and recovers', async () => {
    stream.start()
    await stream.more(200, 'readings accepted before the fault')
    await pair.stopServer('replica', 'fast')
    await eventually(async () => !(await ready('/health/ready', an)), {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: 'analytics not ready without its replica',
    })
    const during = await an.inject({
      method: 'GET',
      url: '/v1/analytics/performance/CV-1',
      headers: { authorization: `Bearer ${KEY}` },
    })
    expect(during.statusCode, during.body).toBe(503)
    await pair.restart('replica')
    await stream.more(200, 'readings accepted after the restart')
    await stream.stop()
    await expectExact(stream)
    const after = await an.inject({
      method: 'GET',
      url: '/v1/analytics/performance/CV-1',
      headers: { authorization: `Bearer ${KEY}` },
    })
    expect(after.statusCode, after.body).toBe(200)
  }, 600_000)

  it('(e) the broker SIGKILLed and restarted', async () => {
    const starts = writer.starts
    stream.start()
    await stream.more(200, 'readings accepted before the fault')
    await kafka.kill()
    await stream.refused('the gateway to answer 503 without a broker')
    await kafka.start()
    await stream.more(400, 'readings accepted after the broker came back')
    await stream.stop()
    await expectExact(stream)
    expect(writer.starts, 'the writer rode out the broker restart without exiting').toBe(starts)
  }, 600_000)

  it('(g) the broker hung (SIGSTOP) past the session timeout, then resumed', async () => {
    const starts = writer.starts
    stream.start()
    await stream.more(200, 'readings accepted before the fault')
    const pid = kafka.pid()
    expect(pid).toBeDefined()
    process.kill(pid!, 'SIGSTOP')
    try {
      await stream.refused('the gateway to answer 503 while the broker hangs')
      // The fault is its duration: the broker stays hung past the writer's 6 s session timeout.
      await new Promise((resolve) => setTimeout(resolve, 8_000))
    } finally {
      process.kill(pid!, 'SIGCONT')
    }
    await stream.more(400, 'readings accepted after the broker resumed')
    await stream.stop()
    await expectExact(stream)
    expect(writer.starts, 'the writer rode out the hung broker without exiting').toBe(starts)
  }, 600_000)
})
