// The live tables hold each device's newest stored reading, whatever the order batches arrive in.
import { createTestDatabase, type TestDatabase } from '@energy-ingest/testenv'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { ensureMonths, withTransaction, writeVehicleBatch, type VehicleRow } from '../../src/index.js'
import { copyVehicleRowsRawWithLive, writeVehicleBatchTuned } from '../../src/internal.js'

const T0 = Date.parse('2026-03-10T08:00:00Z')
const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString()
const reading = (vehicleId: string, minute: number, soc = minute): VehicleRow => ({
  vehicleId,
  timestamp: at(minute),
  soc,
  kwhDeliveredDc: 1,
  batteryTemp: 20,
})

describe('live rows', () => {
  let db: TestDatabase
  let pool: pg.Pool

  beforeAll(async () => {
    db = await createTestDatabase(inject('testenv'))
    pool = new pg.Pool({ connectionString: db.url, max: 3 })
    pool.on('error', () => {}) // a client terminated by DROP DATABASE … WITH (FORCE) at teardown
  })

  afterAll(async () => {
    await pool?.end()
    await db?.drop()
  })

  async function write(rows: VehicleRow[], insertMode?: 'copy' | 'insert' | 'on-conflict') {
    const c = await pool.connect()
    try {
      return await writeVehicleBatchTuned(c, rows, insertMode ? { insertMode } : {})
    } finally {
      c.release()
    }
  }

  async function live(prefix: string): Promise<Record<string, [string, string]>> {
    const { rows } = await pool.query<{ id: string; ts: Date; soc: string }>(
      `SELECT vehicle_id AS id, ts, soc::text AS soc FROM vehicle_live WHERE starts_with(vehicle_id, $1)`,
      [prefix],
    )
    return Object.fromEntries(rows.map((r) => [r.id, [r.ts.toISOString(), r.soc]]))
  }

  it.each(['insert', 'copy', 'on-conflict'] as const)(
    'keeps the newest reading per device across batches in any order (%s)',
    async (mode) => {
      const p = `L-${mode}-`
      await write([reading(`${p}A`, 20), reading(`${p}B`, 20)], mode)
      // Older for A, newer for B, a device not live yet, and two readings of D in one batch.
      await write(
        [
          reading(`${p}A`, 10),
          reading(`${p}B`, 30),
          reading(`${p}C`, 5),
          reading(`${p}D`, 7),
          reading(`${p}D`, 3),
        ],
        mode,
      )
      // A redelivery of an old batch changes nothing.
      await write([reading(`${p}A`, 20, 99), reading(`${p}B`, 20, 99)], mode)
      // The same instant again with other values: the stored reading stays (history keeps the first).
      await write([reading(`${p}B`, 30, 77)], mode)
      expect(await live(p)).toEqual({
        [`${p}A`]: [at(20), '20'],
        [`${p}B`]: [at(30), '30'],
        [`${p}C`]: [at(5), '5'],
        [`${p}D`]: [at(7), '7'],
      })
    },
  )

  it('ends at the newest reading when two writers store overlapping batches at once', async () => {
    const p = 'L-race-'
    const devices = Array.from({ length: 300 }, (_, i) => `${p}${String(i).padStart(3, '0')}`)
    await write(devices.map((d) => reading(d, 0)))
    for (let round = 1; round <= 3; round++) {
      // Writer 1 has the older minute of this round, writer 2 the newer; either may commit first.
      const older = devices.map((d) => reading(d, round * 10))
      const newer = devices.map((d) => reading(d, round * 10 + 5))
      await Promise.all(
        [older, newer].map(async (rows) => {
          const c = await pool.connect()
          try {
            await writeVehicleBatch(c, rows)
          } finally {
            c.release()
          }
        }),
      )
      const got = await live(p)
      expect(Object.keys(got)).toHaveLength(devices.length)
      for (const d of devices) expect(got[d]).toEqual([at(round * 10 + 5), String(round * 10 + 5)])
    }
  })
  it('moves a small batch of a large fleet forward by index, without reading the whole live table', async () => {
    const p = 'L-fleet-'
    const fleet = Array.from({ length: 20_000 }, (_, i) => `${p}${String(i).padStart(5, '0')}`)
    await write(fleet.map((d) => reading(d, 0)))
    await pool.query('ANALYZE vehicle_live') // the size the writer judges the fleet by, as autovacuum keeps it
    const c = await pool.connect()
    try {
      // Statistics reach pg_stat_user_tables when a session flushes them: force it before each read.
      const scans = async () => {
        await c.query('SELECT pg_stat_force_next_flush()')
        await c.query('SELECT 1')
        const { rows } = await c.query<{ seq: string; idx: string }>(
          `SELECT seq_scan AS seq, idx_scan AS idx FROM pg_stat_user_tables WHERE relname = 'vehicle_live'`,
        )
        return { seq: Number(rows[0]!.seq), idx: Number(rows[0]!.idx) }
      }
      const before = await scans()
      const small = fleet.filter((_, i) => i % 100 === 0) // 200 devices of 20,000
      const result = await writeVehicleBatch(
        c,
        small.map((d) => reading(d, 1)),
      )
      expect(result.inserted).toBe(small.length)
      const after = await scans()
      expect(after.seq - before.seq).toBe(0)
      expect(after.idx - before.idx).toBeGreaterThanOrEqual(small.length)
      const got = await live(p)
      for (const d of small) expect(got[d]).toEqual([at(1), '1'])
      expect(got[fleet[1]!]).toEqual([at(0), '0'])
    } finally {
      c.release()
    }
  })

  it("the writer bench's floor (raw COPY plus one live write per device) leaves the newest row live", async () => {
    const p = 'FLOOR-'
    const c = await pool.connect()
    try {
      await ensureMonths(c, ['vehicle'], [new Date(T0)])
      // Devices interleaved, each in time order, as the bench's rows are; then a second batch.
      const first = [0, 1, 2].flatMap((m) => ['A', 'B', 'C'].map((d) => reading(`${p}${d}`, m, 10 * m)))
      await withTransaction(c, () => copyVehicleRowsRawWithLive(c, first))
      expect(await live(p)).toEqual({
        [`${p}A`]: [at(2), '20'],
        [`${p}B`]: [at(2), '20'],
        [`${p}C`]: [at(2), '20'],
      })
      await withTransaction(c, () => copyVehicleRowsRawWithLive(c, [reading(`${p}B`, 3, 33)]))
      expect((await live(p))[`${p}B`]).toEqual([at(3), '33'])
      // Mostly one row per device, one device twice: the temp-table shape, newest row per device.
      const third = [reading(`${p}A`, 5, 50), reading(`${p}A`, 4, 40), reading(`${p}C`, 4, 44)]
      await withTransaction(c, () => copyVehicleRowsRawWithLive(c, third))
      expect(await live(p)).toEqual({
        [`${p}A`]: [at(5), '50'],
        [`${p}B`]: [at(3), '33'],
        [`${p}C`]: [at(4), '44'],
      })
      const { rows } = await c.query<{ n: string }>(
        'SELECT count(*) AS n FROM vehicle_history WHERE starts_with(vehicle_id, $1)',
        [p],
      )
      expect(Number(rows[0]!.n)).toBe(first.length + 1 + third.length)
    } finally {
      c.release()
    }
  })
})
