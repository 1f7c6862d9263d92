// The date-sensitive paths, run on a pinned clock shared by the gateway, the writer and analytics:
// readings posted across the turn of a year (2026-12-31T23:59:30Z -> 2027-01-01T00:00:30Z) and out of
// a leap day (2028-02-29T23:59:30Z -> 2028-03-01T00:00:30Z). Each lands in its month's partition, the
// hours on both sides close into exact rollups, and analytics answers the window across the boundary.
// Nothing here depends on the real date: every service reads the test's clock.
import { setRollupMode } from '@energy-ingest/db'
import { eventually } from '@energy-ingest/testenv'
import { afterEach, describe, expect, it } from 'vitest'
import { startPipeline, type Pipeline } from './harness.js'

const MIN = 60_000
const HOUR = 60 * MIN

/** The three services and a database on one mutable clock. */
interface Calendar extends Pipeline {
  setClock(iso: string): void
}

let open: Calendar | undefined

async function pipeline(startIso: string): Promise<Calendar> {
  let nowMs = Date.parse(startIso)
  const started = await startPipeline({
    name: 'calendar',
    partitions: 3,
    now: () => nowMs,
    writerEnv: { ROLLUP_CLOSE_INTERVAL_MS: '100', PARTITION_MAINTENANCE_INTERVAL_MS: '1000' },
    // The migration put the rollup watermark at the real hour; move it to the pinned one, so the hours
    // this test writes are open hours, closed later by the writer's own closer on the test's clock.
    prepare: async (primary) => {
      const client = await primary.connect()
      try {
        const hour = new Date(Math.floor(nowMs / HOUR) * HOUR)
        for (const kind of ['meter', 'vehicle'] as const)
          await setRollupMode(client, kind, { perBatch: false, closedBefore: hour })
      } finally {
        client.release()
      }
    },
  })
  const p: Calendar = {
    ...started,
    setClock(iso) {
      nowMs = Date.parse(iso)
    },
  }
  open = p
  return p
}

afterEach(async () => {
  await open?.close()
  open = undefined
})

async function post(p: Calendar, url: string, payload: unknown, status = 202) {
  const res = await p.gw.inject({
    method: 'POST',
    url,
    payload: payload as object,
    headers: { authorization: `Bearer ${p.fleetToken}` },
  })
  expect(res.statusCode, res.body).toBe(status)
  return res
}

const meter = (timestamp: string, kwhConsumedAc: number) => ({
  meterId: 'M-CAL',
  kwhConsumedAc,
  voltage: 230,
  timestamp,
})
const vehicle = (timestamp: string, kwhDeliveredDc: number, batteryTemp: number) => ({
  vehicleId: 'V-CAL',
  soc: 50,
  kwhDeliveredDc,
  batteryTemp,
  timestamp,
})

/** Which partition holds each stored row, and the rollup rows, read on the primary. */
async function stored(p: Calendar) {
  const partitions = await p.primary.query<{ part: string; ts: Date }>(
    `SELECT tableoid::regclass::text AS part, ts FROM meter_history WHERE meter_id = 'M-CAL'
     UNION ALL
     SELECT tableoid::regclass::text, ts FROM vehicle_history WHERE vehicle_id = 'V-CAL' ORDER BY 2, 1`,
  )
  const hourly = await p.primary.query<{ hour: Date; readings: number; kwh: string }>(
    `SELECT hour, readings, kwh_consumed_ac_sum::text AS kwh FROM meter_hourly WHERE meter_id = 'M-CAL'
     ORDER BY hour`,
  )
  const raw = await p.primary.query<{ hour: Date; readings: number; kwh: string }>(
    `SELECT date_trunc('hour', ts, 'UTC') AS hour, count(*)::int AS readings, sum(kwh_consumed_ac)::text AS kwh
       FROM meter_history WHERE meter_id = 'M-CAL' GROUP BY 1 ORDER BY 1`,
  )
  return { partitions: partitions.rows, hourly: hourly.rows, raw: raw.rows }
}

async function waitStored(p: Calendar, count: number) {
  await eventually(
    async () => {
      const { rows } = await p.primary.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM meter_history WHERE meter_id = 'M-CAL')
              + (SELECT count(*) FROM vehicle_history WHERE vehicle_id = 'V-CAL')::int AS n`,
      )
      return Number(rows[0]?.n) === count ? true : undefined
    },
    { timeoutMs: 45_000, intervalMs: 100, message: `${count} readings stored` },
  )
}

async function waitClosed(p: Calendar, before: string) {
  await eventually(
    async () => {
      const { rows } = await p.primary.query<{ done: boolean }>(
        `SELECT bool_and(closed_before >= $1::timestamptz) AS done FROM rollup_watermarks`,
        [before],
      )
      return rows[0]?.done ? true : undefined
    },
    { timeoutMs: 45_000, intervalMs: 100, message: `hours before ${before} closed` },
  )
}

async function performance(p: Calendar, expected: { vehicle: number; meter: number }) {
  return eventually(
    async () => {
      const res = await p.an.inject({
        method: 'GET',
        url: '/v1/analytics/performance/V-CAL',
        headers: { authorization: `Bearer ${p.apiKey}` },
      })
      const body = res.json() as Record<string, unknown>
      const readings = body.readings as { vehicle: number; meter: number } | undefined
      return res.statusCode === 200 &&
        readings?.vehicle === expected.vehicle &&
        readings.meter === expected.meter
        ? body
        : undefined
    },
    { timeoutMs: 45_000, intervalMs: 200, message: 'the window to reach analytics' },
  )
}

describe('a pinned clock across calendar boundaries', () => {
  it('turns the year: 2026-12-31T23:59:30Z -> 2027-01-01T00:00:30Z', async () => {
    const p = await pipeline('2026-12-31T23:59:30.000Z')
    await post(p, '/v1/assignments', {
      vehicleId: 'V-CAL',
      meterId: 'M-CAL',
      validFrom: '2026-12-31T00:00:00Z',
    })
    // Four minutes ahead is inside the 5 min skew the gateway allows; six is not.
    await post(p, '/v1/ingest/batch', [
      meter('2026-12-31T23:58:00Z', 1.25),
      meter('2026-12-31T23:59:00Z', 0.5),
      meter('2026-12-31T23:59:30Z', 0.125),
      vehicle('2026-12-31T23:59:00Z', 1, 30),
      vehicle('2026-12-31T23:59:30Z', 0.5, 31),
      meter('2027-01-01T00:04:00Z', 2),
    ])
    await post(p, '/v1/ingest', meter('2027-01-01T00:06:00Z', 9), 400)
    p.setClock('2027-01-01T00:00:30.000Z')
    await post(p, '/v1/ingest/batch', [
      meter('2027-01-01T00:00:00Z', 0.75),
      meter('2027-01-01T00:00:30Z', 0.375),
      vehicle('2027-01-01T00:00:00Z', 0.25, 32),
      vehicle('2027-01-01T00:00:30Z', 0.125, 33),
    ])
    await waitStored(p, 10)
    // Past the hour and the closer's grace: both hours either side of midnight close.
    p.setClock('2027-01-01T01:06:00.000Z')
    await waitClosed(p, '2027-01-01T01:00:00Z')

    const s = await stored(p)
    const partOf = (iso: string) =>
      s.partitions.filter((r) => r.ts.toISOString() === new Date(iso).toISOString())
    expect(
      partOf('2026-12-31T23:59:30Z')
        .map((r) => r.part)
        .sort(),
    ).toEqual(['meter_history_2026_12', 'vehicle_history_2026_12'])
    expect(
      partOf('2027-01-01T00:00:00Z')
        .map((r) => r.part)
        .sort(),
    ).toEqual(['meter_history_2027_01', 'vehicle_history_2027_01'])
    expect(s.hourly.map((h) => [h.hour.toISOString(), h.readings, Number(h.kwh)])).toEqual([
      ['2026-12-31T23:00:00.000Z', 3, 1.875],
      ['2027-01-01T00:00:00.000Z', 3, 3.125],
    ])
    expect(s.hourly.map((h) => [h.hour.toISOString(), h.readings, h.kwh])).toEqual(
      s.raw.map((h) => [h.hour.toISOString(), h.readings, h.kwh]),
    )

    // The default 24 h window ends at the pinned "now" and spans both years.
    const body = await performance(p, { vehicle: 4, meter: 6 })
    expect(body).toMatchObject({
      vehicleId: 'V-CAL',
      meterIds: ['M-CAL'],
      windowStart: '2026-12-31T01:06:00.000Z',
      windowEnd: '2027-01-01T01:06:00.000Z',
      totalAcConsumed: 5,
      totalDcDelivered: 1.875,
      avgBatteryTemp: 31.5,
    })
  })

  it('leaves a leap day: 2028-02-29T23:59:30Z -> 2028-03-01T00:00:30Z', async () => {
    const p = await pipeline('2028-02-29T23:59:30.000Z')
    await post(p, '/v1/ingest/batch', [
      meter('2028-02-29T00:00:00Z', 1),
      meter('2028-02-29T23:59:30Z', 0.5),
      vehicle('2028-02-29T23:59:30Z', 0.75, 20),
    ])
    p.setClock('2028-03-01T00:00:30.000Z')
    await post(p, '/v1/ingest/batch', [
      meter('2028-03-01T00:00:30Z', 0.25),
      vehicle('2028-03-01T00:00:30Z', 0.5, 22),
    ])
    await waitStored(p, 5)
    p.setClock('2028-03-01T01:06:00.000Z')
    await waitClosed(p, '2028-03-01T01:00:00Z')

    const s = await stored(p)
    expect(s.partitions.map((r) => [r.ts.toISOString(), r.part])).toEqual([
      ['2028-02-29T00:00:00.000Z', 'meter_history_2028_02'],
      ['2028-02-29T23:59:30.000Z', 'meter_history_2028_02'],
      ['2028-02-29T23:59:30.000Z', 'vehicle_history_2028_02'],
      ['2028-03-01T00:00:30.000Z', 'meter_history_2028_03'],
      ['2028-03-01T00:00:30.000Z', 'vehicle_history_2028_03'],
    ])
    expect(s.hourly.map((h) => [h.hour.toISOString(), h.readings, h.kwh])).toEqual(
      s.raw.map((h) => [h.hour.toISOString(), h.readings, h.kwh]),
    )
    // Same-id pairing (no assignment): meter M-CAL is not V-CAL, so only the vehicle side counts.
    const body = await performance(p, { vehicle: 2, meter: 0 })
    expect(body).toMatchObject({
      windowStart: '2028-02-29T01:06:00.000Z',
      windowEnd: '2028-03-01T01:06:00.000Z',
      totalDcDelivered: 1.25,
      avgBatteryTemp: 21,
    })
  })
})
