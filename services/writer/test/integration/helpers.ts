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
import { closeHours } from '@energy-ingest/db'
import {
  createTestDatabase,
  createTopics,
  prng,
  testTopicPrefix,
  type TestDatabase,
} from '@energy-ingest/testenv'
import { Kafka, logLevel, type Producer } from 'kafkajs'
import pg from 'pg'
import { expect, inject } from 'vitest'
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
  if (opts.dlqConfig) await createTopicWithConfig(env.kafkaBrokers, topics.dlq, opts.dlqConfig)
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

async function createTopicWithConfig(brokers: string[], topic: string, config: Record<string, string>) {
  const admin = new Kafka({ clientId: 'writer-test-admin', brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: PARTITIONS,
          replicationFactor: 1,
          configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
        },
      ],
    })
  } finally {
    await admin.disconnect()
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

const ms = (iso: string) => Date.parse(iso)

/** History holds exactly these readings (first occurrence of each key wins), live the newest per device. */
export async function expectStoredExactly(db: pg.Pool, meters: MeterReading[], vehicles: VehicleReading[]) {
  const firstOf = <R extends Reading>(rs: R[]) => {
    const m = new Map<string, R>()
    for (const r of rs) {
      const k = `${deviceOf(r)}|${ms(r.timestamp)}`
      if (!m.has(k)) m.set(k, r)
    }
    return [...m.values()]
  }
  const sortKey = (a: string[], b: string[]) => (a.join('|') < b.join('|') ? -1 : 1)
  const meterRows = await db.query<Record<string, string>>(
    `SELECT meter_id, (extract(epoch FROM ts) * 1000)::bigint::text AS ts, kwh_consumed_ac::text AS kwh,
       voltage::text AS v FROM meter_history`,
  )
  const gotMeters = meterRows.rows.map((r) => [r.meter_id!, r.ts!, r.kwh!, r.v!]).sort(sortKey)
  const wantMeters = firstOf(meters)
    .map((r) => [r.meterId, String(ms(r.timestamp)), String(r.kwhConsumedAc), String(r.voltage)])
    .sort(sortKey)
  const vehicleRows = await db.query<Record<string, string>>(
    `SELECT vehicle_id, (extract(epoch FROM ts) * 1000)::bigint::text AS ts, soc::text AS soc,
       kwh_delivered_dc::text AS kwh, battery_temp::text AS temp FROM vehicle_history`,
  )
  const gotVehicles = vehicleRows.rows
    .map((r) => [r.vehicle_id!, r.ts!, r.soc!, r.kwh!, r.temp!])
    .sort(sortKey)
  const wantVehicles = firstOf(vehicles)
    .map((r) => [
      r.vehicleId,
      String(ms(r.timestamp)),
      String(r.soc),
      String(r.kwhDeliveredDc),
      String(r.batteryTemp),
    ])
    .sort(sortKey)
  const live = async (table: string, id: string) =>
    (
      await db.query<{ id: string; ts: string }>(
        `SELECT ${id} AS id, (extract(epoch FROM ts) * 1000)::bigint::text AS ts FROM ${table} ORDER BY 1`,
      )
    ).rows.map((r) => [r.id, r.ts])
  const newest = (rs: Reading[]) => {
    const m = new Map<string, number>()
    for (const r of rs) m.set(deviceOf(r), Math.max(m.get(deviceOf(r)) ?? 0, ms(r.timestamp)))
    return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([id, t]) => [id, String(t)])
  }
  return {
    meters: { got: gotMeters, want: wantMeters },
    vehicles: { got: gotVehicles, want: wantVehicles },
    meterLive: { got: await live('meter_live', 'meter_id'), want: newest(meters) },
    vehicleLive: { got: await live('vehicle_live', 'vehicle_id'), want: newest(vehicles) },
  }
}

/**
 * Rows of *_hourly (below the watermark) and *_fleet_minutely that differ from the same aggregate
 * computed straight from history: 0 when the rollups are exact.
 */
export async function rollupDifferences(db: pg.Pool): Promise<Record<string, number>> {
  const q = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n)
  const diff = (a: string, b: string) =>
    `SELECT (SELECT count(*) FROM (${a} EXCEPT ALL ${b}) x) + (SELECT count(*) FROM (${b} EXCEPT ALL ${a}) y) AS n`
  const w = (kind: string) => `(SELECT closed_before FROM rollup_watermarks WHERE kind = '${kind}')`
  return {
    meterHourly: await q(
      diff(
        `SELECT meter_id, date_trunc('hour', ts, 'UTC') AS hour, count(*)::int, sum(kwh_consumed_ac),
           sum(voltage), min(voltage), max(voltage), min(ts), max(ts)
         FROM meter_history WHERE ts < ${w('meter')} GROUP BY 1, 2`,
        `SELECT meter_id, hour, readings, kwh_consumed_ac_sum, voltage_sum, voltage_min, voltage_max, first_ts,
           last_ts FROM meter_hourly WHERE hour < ${w('meter')}`,
      ),
    ),
    vehicleHourly: await q(
      diff(
        `SELECT vehicle_id, date_trunc('hour', ts, 'UTC') AS hour, count(*)::int, sum(kwh_delivered_dc),
           sum(battery_temp), min(battery_temp), max(battery_temp), sum(soc), min(soc), max(soc),
           min(ts), (array_agg(soc ORDER BY ts))[1], max(ts), (array_agg(soc ORDER BY ts DESC))[1]
         FROM vehicle_history WHERE ts < ${w('vehicle')} GROUP BY 1, 2`,
        `SELECT vehicle_id, hour, readings, kwh_delivered_dc_sum, battery_temp_sum, battery_temp_min,
           battery_temp_max, soc_sum, soc_min, soc_max, first_ts, first_soc, last_ts, last_soc
         FROM vehicle_hourly WHERE hour < ${w('vehicle')}`,
      ),
    ),
    meterFleet: await q(
      diff(
        `SELECT date_trunc('minute', ts, 'UTC'), count(*), sum(kwh_consumed_ac) FROM meter_history GROUP BY 1`,
        `SELECT minute, sum(readings), sum(kwh_consumed_ac_sum) FROM meter_fleet_minutely GROUP BY 1`,
      ),
    ),
    vehicleFleet: await q(
      diff(
        `SELECT date_trunc('minute', ts, 'UTC'), count(*), sum(kwh_delivered_dc), sum(battery_temp)
         FROM vehicle_history GROUP BY 1`,
        `SELECT minute, sum(readings), sum(kwh_delivered_dc_sum), sum(battery_temp_sum)
         FROM vehicle_fleet_minutely GROUP BY 1`,
      ),
    ),
  }
}

/** Materialises every hour up to an hour from now, so that the whole history is covered by rollups. */
export async function closeAllHours(db: pg.Pool): Promise<void> {
  const client = await db.connect()
  try {
    for (const kind of ['meter', 'vehicle'] as const) {
      await closeHours(client, kind, { upTo: new Date(Date.now() + 2 * HOUR), maxHours: 100_000 })
    }
  } finally {
    client.release()
  }
}

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

/**
 * History and live hold exactly the expected readings (first occurrence per key, newest per device),
 * and once every hour is closed, the hourly and fleet rollups equal the aggregates of history.
 */
export async function assertStoredExactly(db: pg.Pool, meters: MeterReading[], vehicles: VehicleReading[]) {
  const stored = await expectStoredExactly(db, meters, vehicles)
  expect(stored.meters.got).toEqual(stored.meters.want)
  expect(stored.vehicles.got).toEqual(stored.vehicles.want)
  expect(stored.meterLive.got).toEqual(stored.meterLive.want)
  expect(stored.vehicleLive.got).toEqual(stored.vehicleLive.want)
  await closeAllHours(db)
  expect(await rollupDifferences(db)).toEqual({
    meterHourly: 0,
    vehicleHourly: 0,
    meterFleet: 0,
    vehicleFleet: 0,
  })
}
