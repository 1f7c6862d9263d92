// Register meters in the write path: derived energy in history, rollups equal to history, and the
// same stored values whatever the arrival order, duplication and batching (property-based).
import { createTestDatabase, type TestDatabase } from '@energy-ingest/testenv'
import fc from 'fast-check'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  closeHours,
  deriveRegisterEnergy,
  microsOf,
  setRollupMode,
  writeMeterBatch,
  type MeterRow,
} from '../../src/index.js'
import { writeMeterBatchTuned } from '../../src/internal.js'

const HOUR = 3_600_000
const MIN = 60_000
const BASE = Date.parse('2025-11-03T00:00:00Z')

const DIFF = (a: string, b: string) =>
  `SELECT (SELECT count(*) FROM (${a} EXCEPT ALL ${b}) x) + (SELECT count(*) FROM (${b} EXCEPT ALL ${a}) y) AS n`

/** Hourly rows below the watermark equal history, flag counts included. */
const HOURLY_DIFF = DIFF(
  `SELECT meter_id, date_trunc('hour', ts, 'UTC'), count(*)::int, sum(kwh_consumed_ac), sum(voltage),
     min(voltage), max(voltage), min(ts), max(ts),
     (count(*) FILTER (WHERE 'reset' = ANY (energy_flags)))::int,
     (count(*) FILTER (WHERE 'placeholder' = ANY (energy_flags)))::int,
     (count(*) FILTER (WHERE 'suspect' = ANY (energy_flags)))::int
   FROM meter_history WHERE ts < (SELECT closed_before FROM rollup_watermarks WHERE kind = 'meter') GROUP BY 1, 2`,
  `SELECT meter_id, hour, readings, kwh_consumed_ac_sum, voltage_sum, voltage_min, voltage_max, first_ts, last_ts,
     energy_resets, energy_placeholders, energy_suspects
   FROM meter_hourly WHERE hour < (SELECT closed_before FROM rollup_watermarks WHERE kind = 'meter')`,
)

/** Fleet hours (summed over shards) equal history, register corrections included. */
const FLEET_HOURS_DIFF = DIFF(
  `SELECT date_trunc('hour', ts, 'UTC'), count(*)::bigint, sum(kwh_consumed_ac) FROM meter_history GROUP BY 1`,
  `SELECT hour, sum(readings)::bigint, sum(kwh_consumed_ac_sum) FROM meter_fleet_hourly GROUP BY 1
   HAVING sum(readings) > 0`,
)

/** Fleet minutes (summed over shards) equal history. */
const FLEET_DIFF = DIFF(
  `SELECT date_trunc('minute', ts, 'UTC'), count(*)::bigint, sum(kwh_consumed_ac) FROM meter_history GROUP BY 1`,
  `SELECT minute, sum(readings)::bigint, sum(kwh_consumed_ac_sum) FROM meter_fleet_minutely GROUP BY 1
   HAVING sum(readings) > 0`,
)

const iso = (ms: number) => new Date(ms).toISOString()

describe('register meters', () => {
  let db: TestDatabase
  let pool: pg.Pool
  let day = 0

  beforeAll(async () => {
    db = await createTestDatabase(inject('testenv'))
    pool = new pg.Pool({ connectionString: db.url, max: 3 })
    pool.on('error', () => {}) // a client terminated by DROP DATABASE … WITH (FORCE) at teardown
  })

  afterAll(async () => {
    await pool?.end()
    await db?.drop()
  })

  /** A fresh day per scenario; the hours before dayStart + closedHours are closed (late rows fold). */
  async function freshDay(closedHours: number): Promise<number> {
    const start = BASE + day++ * 24 * HOUR
    const c = await pool.connect()
    try {
      // close every hour before this day first: moving the watermark alone would skip them
      await closeHours(c, 'meter', { upTo: new Date(start), maxHours: 100_000 })
      await setRollupMode(c, 'meter', { perBatch: false, closedBefore: new Date(start + closedHours * HOUR) })
    } finally {
      c.release()
    }
    return start
  }

  async function write(rows: MeterRow[], shard = 0, insertMode?: 'copy' | 'insert' | 'on-conflict') {
    const c = await pool.connect()
    try {
      return await writeMeterBatchTuned(c, rows, { shard, ...(insertMode ? { insertMode } : {}) })
    } finally {
      c.release()
    }
  }

  async function closeAll(upTo: number) {
    const c = await pool.connect()
    try {
      await closeHours(c, 'meter', { upTo: new Date(upTo), maxHours: 1000 })
    } finally {
      c.release()
    }
  }

  async function stored(meterId: string) {
    const { rows } = await pool.query<{ kwh: string; flags: string[] | null; reg: string | null }>(
      `SELECT kwh_consumed_ac::text AS kwh, energy_flags AS flags, energy_register_kwh::text AS reg
       FROM meter_history WHERE meter_id = $1 ORDER BY ts`,
      [meterId],
    )
    return rows.map((r) => ({ kwh: r.kwh, flags: r.flags ?? [] }))
  }

  async function expectRollupsEqualHistory() {
    expect((await pool.query(HOURLY_DIFF)).rows[0].n).toBe('0')
    expect((await pool.query(FLEET_DIFF)).rows[0].n).toBe('0')
    expect((await pool.query(FLEET_HOURS_DIFF)).rows[0].n).toBe('0')
  }

  const reg = (meterId: string, ms: number, energyRegisterKwh: number, voltage = 230): MeterRow => ({
    meterId,
    timestamp: iso(ms),
    energyRegisterKwh,
    voltage,
  })

  it('derives energy with reset, placeholder and a late reading splitting an interval', async () => {
    const t = await freshDay(2)
    const m = 'REG-EX-1'
    // hour 0 (closed), hour 1 (closed), hour 3 (open)
    await write([reg(m, t, 910), reg(m, t + 10 * MIN, 910.5), reg(m, t + 20 * MIN, 0)])
    expect(await stored(m)).toEqual([
      { kwh: '0', flags: ['first'] },
      { kwh: '0.5', flags: [] },
      { kwh: '0', flags: ['reset'] }, // a drop not (yet) undone: a reset of energy 0
    ])
    // the next reading undoes the drop: it was a placeholder; the energy is taken across it
    await write([reg(m, t + 30 * MIN, 910.58)])
    expect(await stored(m)).toEqual([
      { kwh: '0', flags: ['first'] },
      { kwh: '0.5', flags: [] },
      { kwh: '0', flags: ['placeholder'] },
      { kwh: '0.08', flags: [] },
    ])
    // a real reset (meter replaced), then a late reading between two stored ones
    await write([reg(m, t + 3 * HOUR, 2.5), reg(m, t + 3 * HOUR + 10 * MIN, 3)])
    await write([reg(m, t + 20 * MIN + 5 * MIN, 910.55)], 1) // between the placeholder and 910.58
    expect(await stored(m)).toEqual([
      { kwh: '0', flags: ['first'] },
      { kwh: '0.5', flags: [] },
      { kwh: '0', flags: ['placeholder'] },
      { kwh: '0.05', flags: [] },
      { kwh: '0.03', flags: [] },
      { kwh: '2.5', flags: ['reset'] },
      { kwh: '0.5', flags: [] },
    ])
    // an earlier reading than the first: the old first now has energy
    await write([reg(m, t - 10 * MIN, 909)])
    const s = await stored(m)
    expect(s[0]).toEqual({ kwh: '0', flags: ['first'] })
    expect(s[1]).toEqual({ kwh: '1', flags: [] })
    // a redelivery changes nothing
    const again = await write([reg(m, t + 20 * MIN + 5 * MIN, 910.55), reg(m, t + 30 * MIN, 910.58)], 2)
    expect(again.inserted).toBe(0)
    expect(again.registerChanged).toBe(0)
    await expectRollupsEqualHistory()
    await closeAll(t + 4 * HOUR)
    await expectRollupsEqualHistory()
    const { rows } = await pool.query(
      `SELECT sum(kwh_consumed_ac_sum)::text AS kwh, sum(energy_resets)::int AS resets,
         sum(energy_placeholders)::int AS placeholders FROM meter_hourly WHERE meter_id = $1`,
      [m],
    )
    expect(rows[0]).toEqual({ kwh: '4.58', resets: 1, placeholders: 1 })
  })

  it('flags an increase above the power ceiling as suspect and does not count it', async () => {
    const t = await freshDay(0)
    const m = 'REG-SUSPECT'
    await write([reg(m, t, 0), reg(m, t + MIN, 50), reg(m, t + 2 * MIN, 50.1)])
    expect(await stored(m)).toEqual([
      { kwh: '0', flags: ['first'] },
      { kwh: '0', flags: ['suspect'] },
      { kwh: '0.1', flags: [] },
    ])
    const c = await pool.connect()
    try {
      await writeMeterBatch(c, [reg('REG-SUSPECT-2', t, 0), reg('REG-SUSPECT-2', t + MIN, 50)], {
        maxPowerKw: 5000,
      })
    } finally {
      c.release()
    }
    expect((await stored('REG-SUSPECT-2'))[1]).toEqual({ kwh: '50', flags: [] })
    await expectRollupsEqualHistory()
  })

  it('a meter mixing interval and register readings: interval readings count as sent, registers diff among themselves', async () => {
    const t = await freshDay(1)
    const m = 'REG-MIXED'
    await write([
      reg(m, t, 100),
      { meterId: m, timestamp: iso(t + MIN), kwhConsumedAc: 0.2, voltage: 231 },
      reg(m, t + 2 * MIN, 100.5),
      { meterId: m, timestamp: iso(t + 3 * MIN), kwhConsumedAc: 0.1, voltage: 231 },
    ])
    await write([reg(m, t + 4 * MIN, 100.75)])
    const { rows } = await pool.query(
      `SELECT kwh_consumed_ac::text AS kwh, energy_register_kwh::text AS reg FROM meter_history
       WHERE meter_id = $1 ORDER BY ts`,
      [m],
    )
    expect(rows).toEqual([
      { kwh: '0', reg: '100' },
      { kwh: '0.2', reg: null },
      { kwh: '0.5', reg: '100.5' },
      { kwh: '0.1', reg: null },
      { kwh: '0.25', reg: '100.75' },
    ])
    await expectRollupsEqualHistory()
  })

  it('stores the same derived energy and rollups whatever the order, duplication and batching', async () => {
    const readings = fc
      .array(
        fc.record({
          gap: fc.integer({ min: 1, max: 25 }),
          step: fc.oneof(
            { weight: 6, arbitrary: fc.integer({ min: 0, max: 4000 }).map((n) => ({ k: 'inc', n })) },
            { weight: 1, arbitrary: fc.constant({ k: 'zero', n: 0 }) },
            { weight: 1, arbitrary: fc.integer({ min: 0, max: 300 }).map((n) => ({ k: 'reset', n })) },
          ),
        }),
        { minLength: 2, maxLength: 30 },
      )
      .map((steps) => {
        let t = 0
        let r = 500
        return steps.map(({ gap, step }) => {
          t += gap * MIN
          if (step.k === 'inc') r = Math.round((r + step.n / 1000) * 1000) / 1000
          else if (step.k === 'reset') r = step.n / 100
          return { offset: t, register: step.k === 'zero' ? 0 : r }
        })
      })
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        readings,
        fc.infiniteStream(fc.integer({ min: 0, max: 1_000_000 })),
        async (points, random) => {
          const t = await freshDay(3) // readings span up to ~12 h: closed and open hours
          const m = `REG-P-${run++}`
          const rows = points.map((p) => reg(m, t + p.offset, p.register, 220 + (p.offset % 7)))
          // shuffle, duplicate a third, cut into batches of random sizes, random shard and mode
          const rnd = random[Symbol.iterator]()
          const next = (n: number) => rnd.next().value % n
          const order = [...rows, ...rows.filter(() => next(3) === 0)]
          for (let i = order.length - 1; i > 0; i--) {
            const j = next(i + 1)
            ;[order[i], order[j]] = [order[j]!, order[i]!]
          }
          const modes = [undefined, 'copy', 'insert', 'on-conflict'] as const
          for (let at = 0; at < order.length;) {
            const size = 1 + next(6)
            await write(order.slice(at, at + size), next(3), modes[next(4)])
            at += size
            if (next(4) === 0) await closeAll(t + next(14) * HOUR) // hours close between batches
          }
          const expected = deriveRegisterEnergy(
            rows.map((r) => ({ tsMicros: microsOf(r.timestamp), registerKwh: r.energyRegisterKwh! })),
          )
          expect(await stored(m)).toEqual(expected.map((e) => ({ kwh: e.kwh, flags: e.flags })))
          await expectRollupsEqualHistory()
          await closeAll(t + 24 * HOUR)
          await expectRollupsEqualHistory()
        },
      ),
      { numRuns: 25 },
    )
  })
})
