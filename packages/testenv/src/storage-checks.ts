// Exact-storage checks shared by the writer's integration tests and the end-to-end fault suite: history
// holds exactly the accepted readings (first occurrence of each key), live rows are the newest per
// device, and rollups equal the aggregates of raw history.
import type { MeterReading, VehicleReading } from '@energy-ingest/contracts'
import type pg from 'pg'
import { expect } from 'vitest'

type Reading = MeterReading | VehicleReading
const deviceOf = (r: Reading) => ('meterId' in r ? r.meterId : r.vehicleId)
const HOUR = 3_600_000

/**
 * Materialises closed hours into *_hourly: packages/db's closeHours, passed in because packages/db's
 * own tests use this package (a dependency the other way would be a cycle).
 */
export type CloseHours = (
  client: pg.PoolClient,
  kind: 'meter' | 'vehicle',
  opts: { upTo: Date; maxHours: number },
) => Promise<unknown>

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
export async function closeAllHours(db: pg.Pool, closeHours: CloseHours): Promise<void> {
  const client = await db.connect()
  try {
    for (const kind of ['meter', 'vehicle'] as const) {
      await closeHours(client, kind, { upTo: new Date(Date.now() + 2 * HOUR), maxHours: 100_000 })
    }
  } finally {
    client.release()
  }
}

/**
 * History and live hold exactly the expected readings (first occurrence per key, newest per device),
 * and once every hour is closed, the hourly and fleet rollups equal the aggregates of history.
 */
export async function assertStoredExactly(
  db: pg.Pool,
  meters: MeterReading[],
  vehicles: VehicleReading[],
  closeHours: CloseHours,
): Promise<void> {
  const stored = await expectStoredExactly(db, meters, vehicles)
  expect(stored.meters.got).toEqual(stored.meters.want)
  expect(stored.vehicles.got).toEqual(stored.vehicles.want)
  expect(stored.meterLive.got).toEqual(stored.meterLive.want)
  expect(stored.vehicleLive.got).toEqual(stored.vehicleLive.want)
  await closeAllHours(db, closeHours)
  expect(await rollupDifferences(db)).toEqual({
    meterHourly: 0,
    vehicleHourly: 0,
    meterFleet: 0,
    vehicleFleet: 0,
  })
}
