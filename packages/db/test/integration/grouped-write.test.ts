// Rows of several shards (Kafka partitions) in one transaction (WriteOptions.parts): history, the
// per-shard fleet minutes and the live rows come out as if each shard's rows were written on its own;
// anything but the all-new path refuses the group and writes nothing.
import { createTestDatabase, type TestDatabase } from '@energy-ingest/testenv'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  GroupNotWritableError,
  writeMeterBatch,
  writeVehicleBatch,
  type MeterRow,
  type VehicleRow,
} from '../../src/index.js'

const T0 = Date.parse('2026-04-07T10:00:00Z')
const at = (second: number) => new Date(T0 + second * 1000).toISOString()

describe('rows of several shards in one transaction', () => {
  let db: TestDatabase
  let pool: pg.Pool

  beforeAll(async () => {
    db = await createTestDatabase(inject('testenv'))
    pool = new pg.Pool({ connectionString: db.url, max: 2 })
    pool.on('error', () => {}) // a client terminated by DROP DATABASE … WITH (FORCE) at teardown
  })

  afterAll(async () => {
    await pool?.end()
    await db?.drop()
  })

  async function withClient<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await pool.connect()
    try {
      return await fn(c)
    } finally {
      c.release()
    }
  }

  /** Shard s holds devices `${p}s-0..n-1`, one reading a minute from minute 0, with s + i as energy. */
  const shardRows = (p: string, shard: number, devices: number, minutes: number): VehicleRow[] =>
    Array.from({ length: devices * minutes }, (_, k) => {
      const i = k % devices
      const m = Math.floor(k / devices)
      return {
        vehicleId: `${p}${shard}-${i}`,
        timestamp: at(m * 60 + i),
        soc: m,
        kwhDeliveredDc: `${shard}.${i}1`,
        batteryTemp: 20 + shard,
      }
    })

  it.each([
    ['one row per device (insert mode)', 1],
    ['several rows per device (copy mode)', 4],
  ])('stores each shard as if alone: %s', async (_label, minutes) => {
    const p = `G${minutes}-`
    // Shards of their own: fleet minutes are shared by every device of a shard.
    const shards = minutes === 1 ? [3, 7, 11] : [4, 8, 12]
    const parts = shards.map((s) => shardRows(p, s, 40, minutes))
    const result = await withClient((c) =>
      writeVehicleBatch(c, parts.flat(), {
        parts: parts.map((rows, i) => ({ shard: shards[i]!, rows: rows.length })),
      }),
    )
    expect(result).toMatchObject({ inserted: parts.flat().length, duplicates: 0, path: 'optimistic' })
    // Fleet minutes per shard equal that shard's history.
    const { rows } = await pool.query<{
      shard: number
      minute: Date
      n: string
      kwh: string
      want_n: string
      want_kwh: string
    }>(
      `SELECT f.shard, f.minute, f.readings::text AS n, f.kwh_delivered_dc_sum::text AS kwh,
              h.n::text AS want_n, h.kwh::text AS want_kwh
         FROM vehicle_fleet_minutely f
         JOIN (SELECT split_part(substr(vehicle_id, length($1) + 1), '-', 1)::int AS shard,
                      date_trunc('minute', ts, 'UTC') AS minute, count(*) AS n, sum(kwh_delivered_dc) AS kwh
                 FROM vehicle_history WHERE starts_with(vehicle_id, $1) GROUP BY 1, 2) h USING (shard, minute)
        WHERE f.shard = ANY ($2::int[]) AND f.minute >= $3::timestamptz AND f.minute < $3::timestamptz + interval '1 hour'
          AND f.shard IN (SELECT DISTINCT split_part(substr(vehicle_id, length($1) + 1), '-', 1)::int
                            FROM vehicle_history WHERE starts_with(vehicle_id, $1))`,
      [p, shards, at(0)],
    )
    expect(rows).toHaveLength(shards.length * minutes)
    for (const r of rows) expect([r.n, r.kwh]).toEqual([r.want_n, r.want_kwh])
    // Every device's live row is its newest reading.
    const live = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM vehicle_live WHERE starts_with(vehicle_id, $1) AND soc = $2`,
      [p, minutes - 1],
    )
    expect(live.rows[0]!.n).toBe(shards.length * 40)
  })

  it('refuses a group that holds a stored row, and writes none of it', async () => {
    const p = 'GR-'
    const a = shardRows(p, 1, 20, 1)
    const b = shardRows(p, 2, 20, 1)
    await withClient((c) => writeVehicleBatch(c, a, { shard: 1 }))
    const fleetBefore = await pool.query(
      'SELECT sum(readings)::int AS n FROM vehicle_fleet_minutely WHERE shard = 2',
    )
    await expect(
      withClient((c) =>
        writeVehicleBatch(c, [...a, ...b], {
          parts: [
            { shard: 1, rows: a.length },
            { shard: 2, rows: b.length },
          ],
        }),
      ),
    ).rejects.toBeInstanceOf(GroupNotWritableError)
    const stored = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM vehicle_history WHERE starts_with(vehicle_id, $1)`,
      [`${p}2-`],
    )
    expect(stored.rows[0]!.n).toBe(0)
    const fleetAfter = await pool.query(
      'SELECT sum(readings)::int AS n FROM vehicle_fleet_minutely WHERE shard = 2',
    )
    expect(fleetAfter.rows[0]).toEqual(fleetBefore.rows[0])
  })

  it('refuses a group that holds register readings', async () => {
    const reading = (meterId: string, energyRegisterKwh: string): MeterRow => ({
      meterId,
      timestamp: at(0),
      energyRegisterKwh,
      voltage: 230,
    })
    await expect(
      withClient((c) =>
        writeMeterBatch(c, [reading('GM-1', '10'), reading('GM-2', '20')], {
          parts: [
            { shard: 1, rows: 1 },
            { shard: 2, rows: 1 },
          ],
        }),
      ),
    ).rejects.toBeInstanceOf(GroupNotWritableError)
  })
})
