// Shared by the writer's integration tests: topics + database per file, producing envelopes the way the
// gateway packs them, and exact checks of every table against the readings that were sent.
import {
  encodeEnvelope,
  partitionForKey,
  topicNames,
  type MeterReading,
  type TopicNames,
  type VehicleReading,
} from '@energy-ingest/contracts'
import { closeHours, LOCK_NAMESPACE, LOCKS } from '@energy-ingest/db'
import {
  assertStoredExactly as assertStoredExactlyWith,
  closeAllHours as closeAllHoursWith,
  createTestDatabase,
  createTopics,
  eventually,
  expectStoredExactly,
  prng,
  rollupDifferences,
  testTopicPrefix,
  type TestDatabase,
} from '@energy-ingest/testenv'
import { Kafka, logLevel, type Producer } from 'kafkajs'
import pg from 'pg'
import { inject } from 'vitest'
import { loadConfig, type Config } from '../../src/config.js'

export const PARTITIONS = 6

export interface Harness {
  brokers: string[]
  db: TestDatabase
  pool: pg.Pool
  prefix: string
  topics: TopicNames
  kafka: Kafka
  producer: Producer
  close(): Promise<void>
}

export interface HarnessOptions {
  /** Topic configs of the DLQ topic (e.g. a small `max.message.bytes`), set when it is created. */
  dlqConfig?: Record<string, string>
}

/** A database cloned from the migrated template, fresh topics, a pool and a producer. */
export async function setupHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const env = inject('testenv')
  const db = await createTestDatabase(env)
  const prefix = testTopicPrefix()
  const topics = topicNames(prefix)
  // Created first, with its own config; createTopics retries until every partition has a leader.
  if (opts.dlqConfig)
    await createTopics(env.kafkaBrokers, [topics.dlq], PARTITIONS, { config: opts.dlqConfig })
  await createTopics(
    env.kafkaBrokers,
    [topics.meter, topics.vehicle, topics.assignments, topics.dlq],
    PARTITIONS,
  )
  const kafka = new Kafka({ clientId: 'writer-test', brokers: env.kafkaBrokers, logLevel: logLevel.NOTHING })
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const pool = new pg.Pool({ connectionString: db.url, max: 3 })
  // DROP DATABASE … WITH (FORCE) at teardown may terminate a client that is still closing.
  pool.on('error', () => {})
  return {
    brokers: env.kafkaBrokers,
    db,
    pool,
    prefix,
    topics,
    kafka,
    producer,
    async close() {
      await producer.disconnect()
      await pool.end()
      await db.drop()
    },
  }
}

/** Environment of a writer for this harness (also used for spawned writer processes). */
export function writerEnv(h: Harness, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: h.db.url,
    KAFKA_BROKERS: h.brokers.join(','),
    KAFKA_TOPIC_PREFIX: h.prefix,
    KAFKA_GROUP_ID: `${h.prefix}energy-writer`,
    KAFKA_PARTITIONS: String(PARTITIONS),
    WRITER_PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.WRITER_TEST_LOG_LEVEL ?? 'warn',
    KAFKA_MAX_WAIT_MS: '100',
    KAFKA_SESSION_TIMEOUT_MS: '10000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
    ROLLUP_CLOSE_INTERVAL_MS: '60000',
    ...extra,
  }
}

export function writerConfig(h: Harness, extra: Record<string, string> = {}): Config {
  return loadConfig(writerEnv(h, extra))
}

type Reading = MeterReading | VehicleReading
const deviceOf = (r: Reading) => ('meterId' in r ? r.meterId : r.vehicleId)

/**
 * Publishes readings packed as the gateway does: readings of one partition share an envelope (at most
 * `perMessage`), keyed by a device id of that partition, in the order given.
 */
export async function publishReadings(
  h: Harness,
  type: 'meter' | 'vehicle',
  readings: Reading[],
  perMessage = 50,
  /** The envelopes' receivedAt (the gateway's clock): default now. */
  receivedAt = new Date().toISOString(),
): Promise<void> {
  const byPartition = new Map<number, Reading[]>()
  for (const r of readings) {
    const p = partitionForKey(deviceOf(r), PARTITIONS)
    byPartition.set(p, [...(byPartition.get(p) ?? []), r])
  }
  const messages = []
  for (const [partition, list] of byPartition) {
    for (let i = 0; i < list.length; i += perMessage) {
      const chunk = list.slice(i, i + perMessage)
      const value =
        type === 'meter'
          ? encodeEnvelope({ v: 1, type, receivedAt, readings: chunk as MeterReading[] })
          : encodeEnvelope({ v: 1, type, receivedAt, readings: chunk as VehicleReading[] })
      messages.push({ partition, key: deviceOf(chunk[0]!), value, headers: { 'schema-version': '1' } })
    }
  }
  await h.producer.send({ topic: type === 'meter' ? h.topics.meter : h.topics.vehicle, acks: -1, messages })
}

const HOUR = 3_600_000
const MINUTE = 60_000

export { prng }

/** Readings of `devices` meters and vehicles at random minutes of [start, end), in random order. */
export function randomReadings(opts: {
  seed: number
  devices: number
  perDevice: number
  start: number
  end: number
}) {
  const rand = prng(opts.seed)
  const meters: MeterReading[] = []
  const vehicles: VehicleReading[] = []
  const minutes = Math.floor((opts.end - opts.start) / MINUTE)
  for (let d = 0; d < opts.devices; d++) {
    const used = new Set<number>()
    for (let i = 0; i < opts.perDevice; i++) {
      const t = opts.start + Math.floor(rand() * minutes) * MINUTE + Math.floor(rand() * 60) * 1000
      if (used.has(t)) continue
      used.add(t)
      const timestamp = new Date(t).toISOString()
      meters.push({
        meterId: `M-${d}`,
        kwhConsumedAc: Math.round(rand() * 5000) / 1000,
        voltage: Math.round((220 + rand() * 20) * 10) / 10,
        timestamp,
      })
      vehicles.push({
        vehicleId: `V-${d}`,
        soc: Math.round(rand() * 1000) / 10,
        kwhDeliveredDc: Math.round(rand() * 4000) / 1000,
        batteryTemp: Math.round((-10 + rand() * 50) * 10) / 10,
        timestamp,
      })
    }
  }
  const shuffle = <T>(xs: T[]) => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[xs[i], xs[j]] = [xs[j]!, xs[i]!]
    }
    return xs
  }
  return { meters: shuffle(meters), vehicles: shuffle(vehicles) }
}

export const hoursAgo = (n: number) => Math.floor(Date.now() / HOUR) * HOUR - n * HOUR

/** Counts of history rows per type. */
export async function historyCounts(db: pg.Pool): Promise<{ meter: number; vehicle: number }> {
  const { rows } = await db.query<{ m: string; v: string }>(
    'SELECT (SELECT count(*) FROM meter_history) AS m, (SELECT count(*) FROM vehicle_history) AS v',
  )
  return { meter: Number(rows[0]!.m), vehicle: Number(rows[0]!.v) }
}

/** Materialises every hour up to an hour from now, so that the whole history is covered by rollups. */
export const closeAllHours = (db: pg.Pool) => closeAllHoursWith(db, closeHours)

/** Everything a redelivery must leave unchanged (updated_at of live rows aside). */
export async function snapshot(db: pg.Pool): Promise<string> {
  const parts: string[] = []
  for (const sql of [
    'SELECT * FROM meter_history ORDER BY 1, 2',
    'SELECT * FROM vehicle_history ORDER BY 1, 2',
    'SELECT * FROM meter_hourly ORDER BY 1, 2',
    'SELECT * FROM vehicle_hourly ORDER BY 1, 2',
    'SELECT minute, sum(readings), sum(kwh_consumed_ac_sum) FROM meter_fleet_minutely GROUP BY 1 ORDER BY 1',
    'SELECT minute, sum(readings), sum(kwh_delivered_dc_sum), sum(battery_temp_sum) FROM vehicle_fleet_minutely GROUP BY 1 ORDER BY 1',
    'SELECT meter_id, ts, kwh_consumed_ac, voltage, received_at FROM meter_live ORDER BY 1',
    'SELECT vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at FROM vehicle_live ORDER BY 1',
    'SELECT vehicle_id, meter_id, valid_from, valid_to FROM vehicle_meter_assignments ORDER BY 1, 3',
  ]) {
    parts.push(JSON.stringify((await db.query(sql)).rows))
  }
  return parts.join('\n')
}

/** testenv's exact-storage check, with this package's rollup closer. */
export const assertStoredExactly = (db: pg.Pool, meters: MeterReading[], vehicles: VehicleReading[]) =>
  assertStoredExactlyWith(db, meters, vehicles, closeHours)

export { expectStoredExactly, rollupDifferences }

/**
 * Holds the vehicle rollup lock exclusively, as closeHours() holds it, on a connection of its own:
 * vehicle stores wait until `release()`.
 */
export async function holdVehicleRollupLock(
  h: Harness,
): Promise<{ release(): Promise<void>; end(): Promise<void> }> {
  const locker = new pg.Client({ connectionString: h.db.url })
  await locker.connect()
  await locker.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, LOCKS.vehicleRollup])
  return {
    release: async () => {
      await locker.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, LOCKS.vehicleRollup])
    },
    end: () => locker.end(),
  }
}

/** Until a session of the test database waits on an advisory lock (a store behind a held lock). */
export async function untilAStoreWaitsOnTheLock(h: Harness): Promise<void> {
  await eventually(
    async () => {
      const { rows } = await h.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
      )
      return rows[0]!.n > 0
    },
    { timeoutMs: 30_000, message: 'a store waiting on the lock' },
  )
}
