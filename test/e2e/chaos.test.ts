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
import { topicNames, type MeterReading, type VehicleReading } from '@energy-ingest/contracts'
import { closeHours, migrate } from '@energy-ingest/db'
import * as analytics from '@energy-ingest/analytics'
import * as gateway from '@energy-ingest/gateway'
import {
  assertStoredExactly,
  createTopics,
  eventually,
  freePort,
  repoRoot,
  spawnManaged,
  startKafka,
  startPostgresPair,
  type KafkaServer,
  type ManagedProcess,
  type PostgresPair,
} from '@energy-ingest/testenv'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const PARTITIONS = 4
const FLEET = 'chaos-fleet-token'
const KEY = 'chaos-analytics-key'
const WRITER_MAIN = join(repoRoot, 'services/writer/dist/main.js')
const logDir = mkdtempSync(join(tmpdir(), 'chaos-'))

let pair: PostgresPair
let kafka: KafkaServer
let primary: pg.Pool
let gw: gateway.App
let an: analytics.App
let writer: SupervisedWriter

/** The writer as a process, started again whenever it exits (as `npm start` does), until stopped. */
class SupervisedWriter {
  proc: ManagedProcess | undefined
  starts = 0
  private stopping = false
  private constructor(
    private readonly env: Record<string, string>,
    readonly url: string,
  ) {}

  static async start(env: Record<string, string>): Promise<SupervisedWriter> {
    const port = await freePort()
    const w = new SupervisedWriter({ ...env, WRITER_PORT: String(port) }, `http://127.0.0.1:${port}`)
    w.spawn()
    return w
  }

  private spawn(): void {
    this.starts++
    const proc = spawnManaged(process.execPath, [WRITER_MAIN], {
      name: `writer-${this.starts}`,
      logFile: join(logDir, 'writer.log'),
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...this.env },
    })
    this.proc = proc
    void proc.exited.then(() => {
      if (!this.stopping) setTimeout(() => this.spawn(), 200)
    })
  }

  async kill(): Promise<void> {
    await this.proc?.kill()
  }

  async stop(): Promise<void> {
    this.stopping = true
    await this.proc?.stop('SIGTERM', 20_000)
  }
}

/**
 * A device fleet posting batches through the gateway, one batch in flight, as devices do: a 503 is
 * retried (same readings) after a short pause, and only a 202 counts the batch as accepted.
 */
class Stream {
  readonly meters: MeterReading[] = []
  readonly vehicles: VehicleReading[] = []
  refusals = 0
  private seq = 0
  private running: Promise<void> | undefined
  private stopping = false
  private readonly base = Date.now() - 3_600_000

  get accepted(): number {
    return this.meters.length + this.vehicles.length
  }

  start(): void {
    this.stopping = false
    this.running = this.loop()
  }

  async stop(): Promise<void> {
    this.stopping = true
    await this.running
  }

  /** Resolves once `n` more readings have been accepted than when called. */
  async more(n: number, message: string): Promise<void> {
    const target = this.accepted + n
    await eventually(() => this.accepted >= target, { timeoutMs: 120_000, intervalMs: 50, message })
  }

  /** Resolves once the gateway has refused a batch (the fault reached the devices). */
  async refused(message: string): Promise<void> {
    const target = this.refusals + 1
    await eventually(() => this.refusals >= target, { timeoutMs: 60_000, intervalMs: 50, message })
  }

  private batch(): { meters: MeterReading[]; vehicles: VehicleReading[] } {
    const n = this.seq++
    const timestamp = new Date(this.base + n * 1000).toISOString()
    const meters = Array.from({ length: 10 }, (_, d) => ({
      meterId: `CM-${d}`,
      kwhConsumedAc: ((n * 10 + d) % 997) / 1000,
      voltage: 230,
      timestamp,
    }))
    const vehicles = Array.from({ length: 10 }, (_, d) => ({
      vehicleId: `CV-${d}`,
      soc: (n + d) % 100,
      kwhDeliveredDc: ((n * 7 + d) % 991) / 1000,
      batteryTemp: 20 + (d % 10),
      timestamp,
    }))
    return { meters, vehicles }
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const b = this.batch()
      for (;;) {
        const res = await gw.inject({
          method: 'POST',
          url: '/v1/ingest/batch',
          payload: [...b.meters, ...b.vehicles],
          headers: { authorization: `Bearer ${FLEET}` },
        })
        if (res.statusCode === 202) {
          expect(res.json()).toMatchObject({ accepted: 20 })
          this.meters.push(...b.meters)
          this.vehicles.push(...b.vehicles)
          break
        }
        expect(res.statusCode, res.body).toBe(503)
        this.refusals++
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  }
}

async function ready(url: string, inject?: analytics.App | gateway.App): Promise<boolean> {
  if (inject) return (await inject.inject({ method: 'GET', url })).statusCode === 200
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined)
  return res?.status === 200
}

async function allReady(): Promise<void> {
  await eventually(
    async () =>
      (await ready('/health/ready', gw)) &&
      (await ready(`${writer.url}/health/ready`)) &&
      (await ready('/health/ready', an)),
    { timeoutMs: 120_000, intervalMs: 250, message: 'gateway, writer and analytics ready again' },
  )
}

/** Every accepted reading stored once, nothing else; rollups exact; live rows the newest. */
async function expectExact(stream: Stream): Promise<void> {
  await allReady()
  await eventually(
    async () => {
      const { rows } = await primary.query<{ n: string }>(
        'SELECT (SELECT count(*) FROM meter_history) + (SELECT count(*) FROM vehicle_history) AS n',
      )
      return Number(rows[0]!.n) >= stream.accepted
    },
    { timeoutMs: 120_000, intervalMs: 250, message: `${stream.accepted} readings stored` },
  )
  await assertStoredExactly(primary, stream.meters, stream.vehicles, closeHours)
}

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
  writer = await SupervisedWriter.start({
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
  })
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
  const stream = new Stream()

  it('(a) the writer SIGKILLed 5 times at random points', async () => {
    stream.start()
    for (let i = 0; i < 5; i++) {
      await stream.more(200 + Math.floor(Math.random() * 400), 'readings accepted before a kill')
      await writer.kill()
    }
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
