// The efficiency alerts kept incrementally (queries/alerts-cache.ts) against a full computation from
// the rollups, in the same state of the database, through the changes that move them: a late reading
// in a closed hour, an hour closing (the window slides), an assignment, a new vehicle. The number of
// hours each refresh reads is what makes it incremental.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  closeHours,
  upsertAssignments,
  withTransaction,
  writeMeterBatch,
  writeVehicleBatch,
} from '@energy-ingest/db'
import { createTestDatabase, type TestDatabase } from '@energy-ingest/testenv'
import { AlertsState } from '../../src/queries/alerts-cache.js'
import { DAY, HOUR, seedFleet } from './fixtures.js'

const env = inject('testenv')
const NOW = Date.parse('2026-03-20T12:34:00Z')

/** The whole computation in one statement, as the service did it before it kept the hours. */
const FULL = `
WITH dc AS (
  SELECT vehicle_id, sum(kwh_delivered_dc_sum) AS dc
    FROM vehicle_hourly WHERE hour >= $1::timestamptz AND hour < $2::timestamptz GROUP BY vehicle_id
), pairs AS (
  SELECT a.vehicle_id, a.meter_id, GREATEST(a.valid_from, $1::timestamptz) AS pf,
         LEAST(COALESCE(a.valid_to, 'infinity'), $2::timestamptz) AS pt
    FROM vehicle_meter_assignments a
   WHERE a.valid_from < $2::timestamptz AND (a.valid_to IS NULL OR a.valid_to > $1::timestamptz)
  UNION ALL
  SELECT d.vehicle_id, d.vehicle_id, $1::timestamptz,
         LEAST($2::timestamptz, (SELECT COALESCE(min(x.valid_from), 'infinity') FROM vehicle_meter_assignments x
                                  WHERE x.vehicle_id = d.vehicle_id))
    FROM dc d
   WHERE NOT EXISTS (SELECT 1 FROM vehicle_meter_assignments x
                      WHERE x.vehicle_id = d.vehicle_id AND x.valid_from <= $1::timestamptz)
), ac AS (
  SELECT p.vehicle_id, sum(h.kwh_consumed_ac_sum) AS ac
    FROM pairs p JOIN meter_hourly h
      ON h.meter_id = p.meter_id AND h.hour >= p.pf AND h.hour < p.pt
     AND h.hour >= $1::timestamptz AND h.hour < $2::timestamptz
   GROUP BY p.vehicle_id
)
SELECT dc.vehicle_id, dc.dc::text AS dc, ac.ac::text AS ac
  FROM dc JOIN ac USING (vehicle_id)
 WHERE ac.ac > 0 AND dc.dc < $3::numeric * ac.ac
 ORDER BY dc.dc / ac.ac, dc.vehicle_id`

let db: TestDatabase
let client: pg.Client
let t1: number

beforeAll(async () => {
  db = await createTestDatabase(env)
  await seedFleet(db.url, 23, NOW, { readings: 4000 })
  client = new pg.Client({ connectionString: db.url })
  await client.connect()
  const { rows } = await client.query<{ w: Date }>(
    `SELECT closed_before AS w FROM rollup_watermarks WHERE kind = 'meter'`,
  )
  t1 = rows[0]!.w.getTime()
}, 120_000)

afterAll(async () => {
  await client?.end()
  await db?.drop()
})

async function full(window: { from: Date; to: Date }, below: number) {
  const { rows } = await client.query<{ vehicle_id: string; dc: string; ac: string }>(FULL, [
    window.from,
    window.to,
    String(below),
  ])
  return rows.map((r) => ({
    vehicleId: r.vehicle_id,
    efficiencyRatio: Number(r.dc) / Number(r.ac),
    totalDcDelivered: Number(r.dc),
    totalAcConsumed: Number(r.ac),
  }))
}

describe('incremental efficiency alerts', () => {
  it('equal the full computation after every change, reading only the hours that changed', async () => {
    const reads: number[] = []
    const state = new AlertsState({ ttlMs: 0, onHoursRead: (n) => reads.push(n) })
    const asOf = new Date(NOW)
    const check = async (window: { from: Date; to: Date }, hoursRead: number, what: string) => {
      for (const below of [10, 1, 0.85]) {
        const got = await state.list(client, window, below, asOf)
        expect(got.items, `${what}, below ${below}`).toEqual(await full(window, below))
      }
      // The first list() of the three refreshed; the next two found nothing new.
      expect(reads.splice(0), what).toEqual([hoursRead, 0, 0])
    }
    let window = { from: new Date(t1 - DAY), to: new Date(t1) }
    expect((await full(window, 10)).length, 'the seed has vehicles to alert on').toBeGreaterThan(2)

    await check(window, 24, 'first computation')
    await check(window, 0, 'nothing changed')

    // A late reading of a meter and of a vehicle in one closed hour of the window.
    const late = new Date(t1 - 5 * HOUR + 17 * 60_000).toISOString()
    await writeMeterBatch(client, [{ meterId: 'M-b', timestamp: late, kwhConsumedAc: 2.5, voltage: 230 }])
    await writeVehicleBatch(client, [
      { vehicleId: 'EV-1', timestamp: late, soc: 50, kwhDeliveredDc: 0.123456789, batteryTemp: 20 },
    ])
    await check(window, 1, 'a late reading')

    // The next hour closes: the window slides by one hour; one hour is read.
    for (const kind of ['meter', 'vehicle'] as const)
      await closeHours(client, kind, { upTo: new Date(t1 + HOUR), maxHours: 1 })
    window = { from: new Date(t1 - DAY + HOUR), to: new Date(t1 + HOUR) }
    await check(window, 1, 'the window slid')

    // An assignment: every hour again.
    await withTransaction(client, () =>
      upsertAssignments(client, [
        {
          vehicleId: 'EV-unassigned',
          meterId: 'M-c',
          validFrom: new Date(t1 - 10 * HOUR).toISOString(),
          validTo: null,
        },
      ]),
    )
    await check(window, 24, 'an assignment')

    // A new vehicle with the id of a meter pairs with that meter in every hour: every hour again.
    await writeVehicleBatch(client, [
      { vehicleId: 'M-b', timestamp: late, soc: 10, kwhDeliveredDc: 0.01, batteryTemp: 20 },
    ])
    await check(window, 24, 'a new vehicle')
    expect((await full(window, 10)).map((i) => i.vehicleId)).toContain('M-b')
  }, 120_000)
})
