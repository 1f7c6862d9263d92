// The closed-hour protocol under concurrency: writers insert (late and current) rows while hours are
// being closed; every hour must end up counted exactly once.
import { createTestDatabase, prng, type TestDatabase } from '@energy-ingest/testenv'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  closeHours,
  readWatermark,
  setRollupMode,
  writeMeterBatch,
  writeVehicleBatch,
  type MeterRow,
  type VehicleRow,
} from '../../src/index.js'

const HOUR = 3_600_000

const DIFF = (a: string, b: string) =>
  `SELECT (SELECT count(*) FROM (${a} EXCEPT ALL ${b}) x) + (SELECT count(*) FROM (${b} EXCEPT ALL ${a}) y) AS n`

const METER_DIFF = DIFF(
  `SELECT meter_id, date_trunc('hour', ts, 'UTC'), count(*)::int, sum(kwh_consumed_ac), sum(voltage),
     min(voltage), max(voltage), min(ts), max(ts)
   FROM meter_history WHERE ts < (SELECT closed_before FROM rollup_watermarks WHERE kind = 'meter') GROUP BY 1, 2`,
  `SELECT meter_id, hour, readings, kwh_consumed_ac_sum, voltage_sum, voltage_min, voltage_max, first_ts, last_ts
   FROM meter_hourly WHERE hour < (SELECT closed_before FROM rollup_watermarks WHERE kind = 'meter')`,
)
const VEHICLE_DIFF = DIFF(
  `SELECT vehicle_id, date_trunc('hour', ts, 'UTC'), count(*)::int, sum(kwh_delivered_dc), sum(battery_temp),
     min(battery_temp), max(battery_temp), sum(soc), min(soc), max(soc),
     min(ts), (array_agg(soc ORDER BY ts))[1], max(ts), (array_agg(soc ORDER BY ts DESC))[1]
   FROM vehicle_history WHERE ts < (SELECT closed_before FROM rollup_watermarks WHERE kind = 'vehicle') GROUP BY 1, 2`,
  `SELECT vehicle_id, hour, readings, kwh_delivered_dc_sum, battery_temp_sum, battery_temp_min, battery_temp_max,
     soc_sum, soc_min, soc_max, first_ts, first_soc, last_ts, last_soc
   FROM vehicle_hourly WHERE hour < (SELECT closed_before FROM rollup_watermarks WHERE kind = 'vehicle')`,
)

/** Fleet hours per shard equal the sums of that shard's fleet minutes (the trigger of 0015). */
const FLEET_HOURS_DIFF = (kind: 'meter' | 'vehicle', sums: string) =>
  DIFF(
    `SELECT date_trunc('hour', minute, 'UTC'), shard, sum(readings)::bigint, ${sums
      .split(',')
      .map((c) => `sum(${c.trim()})`)
      .join(', ')} FROM ${kind}_fleet_minutely GROUP BY 1, 2`,
    `SELECT hour, shard, readings, ${sums} FROM ${kind}_fleet_hourly`,
  )
/** Fleet hours summed over shards equal history. */
const FLEET_HISTORY_DIFF = (kind: 'meter' | 'vehicle', columns: string, sums: string) =>
  DIFF(
    `SELECT date_trunc('hour', ts, 'UTC'), count(*)::bigint, ${columns
      .split(',')
      .map((c) => `sum(${c.trim()})`)
      .join(', ')} FROM ${kind}_history GROUP BY 1`,
    `SELECT hour, sum(readings)::bigint, ${sums
      .split(',')
      .map((c) => `sum(${c.trim()})`)
      .join(', ')} FROM ${kind}_fleet_hourly GROUP BY 1`,
  )
const FLEET_CHECKS = [
  FLEET_HOURS_DIFF('meter', 'kwh_consumed_ac_sum'),
  FLEET_HOURS_DIFF('vehicle', 'kwh_delivered_dc_sum, battery_temp_sum'),
  FLEET_HISTORY_DIFF('meter', 'kwh_consumed_ac', 'kwh_consumed_ac_sum'),
  FLEET_HISTORY_DIFF('vehicle', 'kwh_delivered_dc, battery_temp', 'kwh_delivered_dc_sum, battery_temp_sum'),
]

describe('rollups', () => {
  let db: TestDatabase
  let pool: pg.Pool

  beforeAll(async () => {
    db = await createTestDatabase(inject('testenv'))
    pool = new pg.Pool({ connectionString: db.url, max: 6 })
    pool.on('error', () => {}) // a client terminated by DROP DATABASE … WITH (FORCE) at teardown
  })

  afterAll(async () => {
    await pool?.end()
    await db?.drop()
  })

  it('counts every row exactly once while hours close under concurrent writers', async () => {
    const t0 = Math.floor(Date.now() / HOUR) * HOUR - 30 * HOUR
    const hours = 12
    const setup = await pool.connect()
    await setRollupMode(setup, 'meter', { perBatch: false, closedBefore: new Date(t0) })
    await setRollupMode(setup, 'vehicle', { perBatch: false, closedBefore: new Date(t0) })
    setup.release()

    // Each writer owns its devices (as with Kafka partitions) and writes shuffled batches that reach
    // both below and above the moving watermark; some rows are sent twice.
    const writer = async (w: number) => {
      const rand = prng(w + 1)
      const client = await pool.connect()
      try {
        for (let b = 0; b < 25; b++) {
          const meters: MeterRow[] = []
          const vehicles: VehicleRow[] = []
          for (let i = 0; i < 120; i++) {
            const ts = new Date(t0 - HOUR + Math.floor(rand() * (hours + 1) * 3600) * 1000).toISOString()
            const d = `W${w}-${Math.floor(rand() * 15)}`
            meters.push({
              meterId: d,
              timestamp: ts,
              kwhConsumedAc: Math.round(rand() * 999) / 1000,
              voltage: 230 + Math.round(rand() * 99) / 10,
            })
            vehicles.push({
              vehicleId: d,
              timestamp: ts,
              soc: Math.round(rand() * 999) / 10,
              kwhDeliveredDc: Math.round(rand() * 999) / 1000,
              batteryTemp: Math.round(rand() * 400) / 10,
            })
          }
          meters.push(...meters.slice(0, 5))
          await writeMeterBatch(client, meters, { shard: w })
          await writeVehicleBatch(client, vehicles, { shard: w })
        }
      } finally {
        client.release()
      }
    }
    const closer = async () => {
      const client = await pool.connect()
      try {
        for (let h = 1; h <= hours; h++) {
          for (const kind of ['meter', 'vehicle'] as const) {
            await closeHours(client, kind, { upTo: new Date(t0 + h * HOUR), lockTimeoutMs: 20_000 })
          }
        }
      } finally {
        client.release()
      }
    }
    await Promise.all([writer(0), writer(1), writer(2), writer(3), closer()])

    const client = await pool.connect()
    try {
      expect(await readWatermark(client, 'meter')).toEqual(new Date(t0 + hours * HOUR))
      expect((await client.query(METER_DIFF)).rows[0]).toEqual({ n: '0' })
      expect((await client.query(VEHICLE_DIFF)).rows[0]).toEqual({ n: '0' })
      // Close the rest, then everything must match.
      await closeHours(client, 'meter', { upTo: new Date(t0 + (hours + 2) * HOUR) })
      await closeHours(client, 'vehicle', { upTo: new Date(t0 + (hours + 2) * HOUR) })
      expect((await client.query(METER_DIFF)).rows[0]).toEqual({ n: '0' })
      expect((await client.query(VEHICLE_DIFF)).rows[0]).toEqual({ n: '0' })
      const all = await client.query(`SELECT count(*)::int AS n FROM meter_history`)
      const rolled = await client.query(`SELECT sum(readings)::int AS n FROM meter_hourly`)
      expect(rolled.rows[0]).toEqual(all.rows[0])

      // Switching to per-batch folding keeps them exact, and later writes fold per batch.
      await setRollupMode(client, 'vehicle', { perBatch: true })
      expect(await readWatermark(client, 'vehicle')).toBeNull()
      await writeVehicleBatch(client, [
        {
          vehicleId: 'LATE',
          timestamp: new Date(t0 + 5 * HOUR).toISOString(),
          soc: 1,
          kwhDeliveredDc: 1,
          batteryTemp: 1,
        },
      ])
      expect((await client.query(VEHICLE_DIFF)).rows[0]).toEqual({ n: '0' })
      // The fleet hours, kept by a trigger from four writers' minute folds (duplicates and late rows
      // included), equal both their minutes and history.
      for (const check of FLEET_CHECKS) expect((await client.query(check)).rows[0]).toEqual({ n: '0' })
      expect(
        (await client.query('SELECT count(*)::int AS n FROM meter_fleet_hourly')).rows[0].n,
      ).toBeGreaterThan(12)
    } finally {
      client.release()
    }
  })
})
