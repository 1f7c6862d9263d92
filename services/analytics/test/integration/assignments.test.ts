// The assignment rules (packages/db/README.md, "Assignments") as analytics answers them: a short
// assignment interrupts an open one, and the same-id pairing holds before a vehicle's first assignment.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  upsertAssignments,
  withTransaction,
  writeMeterBatch,
  writeVehicleBatch,
  type AssignmentRow,
} from '@energy-ingest/db'
import { createTestDatabase, prng, waitForReplica, type TestDatabase } from '@energy-ingest/testenv'
import { buildApp, type App } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { HOUR } from './fixtures.js'

const env = inject('testenv')
const KEY = 'k'

let db: TestDatabase
let app: App
let replica: pg.Pool
/** 24 closed hours [B, B + 24 h) end at the rollup watermark: the alerts' window. */
let B: number

const at = (hours: number, minutes = 0) => new Date(B + hours * HOUR + minutes * 60_000)
type Part = [meterId: string, from: Date, to: Date]

beforeAll(async () => {
  db = await createTestDatabase(env)
  const primary = new pg.Client({ connectionString: db.url })
  await primary.connect()
  try {
    const { rows } = await primary.query<{ w: Date }>('SELECT min(closed_before) AS w FROM rollup_watermarks')
    B = rows[0]!.w.getTime() - 24 * HOUR
    const rand = prng(7)
    const kwh = (max: number) => Number((rand() * max).toFixed(4))
    const times = Array.from({ length: 24 * 6 + 12 }, (_, i) => new Date(B - 2 * HOUR + i * 600_000 + 60_000))
    await writeMeterBatch(
      primary,
      ['MA', 'MB', 'P1'].flatMap((meterId) =>
        times.map((t) => ({ meterId, timestamp: t.toISOString(), kwhConsumedAc: kwh(3), voltage: 230 })),
      ),
    )
    await writeVehicleBatch(
      primary,
      ['EV-S', 'P1'].flatMap((vehicleId) =>
        times.map((t) => ({
          vehicleId,
          timestamp: t.toISOString(),
          soc: 50,
          kwhDeliveredDc: kwh(2.7),
          batteryTemp: 30,
        })),
      ),
    )
    const send = async (rows: AssignmentRow[]) => {
      await withTransaction(primary, () => upsertAssignments(primary, rows))
    }
    // EV-S charges from MA, with a six-hour visit to MB sent afterwards.
    await send([{ vehicleId: 'EV-S', meterId: 'MA', validFrom: at(0).toISOString() }])
    await send([
      { vehicleId: 'EV-S', meterId: 'MB', validFrom: at(6).toISOString(), validTo: at(12).toISOString() },
    ])
    // P1 has a meter of its own id until its first assignment, at B + 18 h.
    await send([{ vehicleId: 'P1', meterId: 'MA', validFrom: at(18).toISOString() }])
  } finally {
    await primary.end()
  }
  await waitForReplica(env.primaryUrl, env.replicaUrl)
  app = await buildApp(loadConfig({ ANALYTICS_DATABASE_URL: db.replicaUrl, ANALYTICS_API_KEYS: KEY }), {
    logger: false,
  })
  replica = new pg.Pool({ connectionString: db.replicaUrl, max: 1 })
})

afterAll(async () => {
  await app?.close()
  await replica?.end()
  await db?.drop()
})

async function get(url: string) {
  const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${KEY}` } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json() as Record<string, unknown>
}

const q = (from: Date, to: Date) =>
  `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`

/** AC of the given meter intervals, from raw history, in one exact sum. */
async function rawAc(parts: Part[]): Promise<{ ac: number; n: number }> {
  const { rows } = await replica.query<{ ac: string; n: number }>(
    `SELECT COALESCE(sum(h.kwh_consumed_ac), 0)::text AS ac, count(h.*)::int AS n
       FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS p(m, f, t)
       JOIN meter_history h ON h.meter_id = p.m AND h.ts >= p.f AND h.ts < p.t`,
    [parts.map((p) => p[0]), parts.map((p) => p[1]), parts.map((p) => p[2])],
  )
  return { ac: Number(rows[0]!.ac), n: rows[0]!.n }
}

/** Clips intervals to a window, dropping those outside. */
const clip = (parts: Part[], from: Date, to: Date): Part[] =>
  parts
    .map(([m, f, t]): Part => [
      m,
      new Date(Math.max(f.getTime(), from.getTime())),
      new Date(Math.min(t.getTime(), to.getTime())),
    ])
    .filter(([, f, t]) => f < t)

const FAR = new Date(8.64e15)

describe('assignments in analytics answers', () => {
  const evS = (): Part[] => [
    ['MA', at(0), at(6)],
    ['MB', at(6), at(12)],
    ['MA', at(12), FAR],
  ]
  const p1 = (): Part[] => [
    ['P1', new Date(-8.64e15), at(18)],
    ['MA', at(18), FAR],
  ]
  const windows = (): [Date, Date][] => [
    [at(0), at(24)],
    [at(-2), at(24)],
    [at(5, 13), at(20, 7)],
    [at(19), at(24)],
    [at(7), at(11)],
  ]

  it('counts a short assignment inside an open one, and the open one again after it', async () => {
    for (const [from, to] of windows()) {
      const parts = clip(evS(), from, to)
      const expected = await rawAc(parts)
      const body = await get(`/v1/analytics/performance/EV-S?${q(from, to)}`)
      expect(body, q(from, to)).toMatchObject({
        totalAcConsumed: expected.ac,
        readings: { meter: expected.n },
        meterIds: [...new Set(parts.map((p) => p[0]))].sort(),
      })
    }
  })

  it('pairs a vehicle with the meter of its own id before its first assignment only', async () => {
    for (const [from, to] of windows()) {
      const parts = clip(p1(), from, to)
      const expected = await rawAc(parts)
      const body = await get(`/v1/analytics/performance/P1?${q(from, to)}`)
      expect(body, q(from, to)).toMatchObject({
        totalAcConsumed: expected.ac,
        readings: { meter: expected.n },
        meterIds: [...new Set(parts.map((p) => p[0]))].sort(),
      })
    }
    expect((await get(`/v1/analytics/meters/P1?${q(at(0), at(24))}`)).vehicleIds).toEqual(['P1'])
    expect((await get(`/v1/analytics/meters/P1?${q(at(19), at(24))}`)).vehicleIds).toEqual([])
    expect((await get(`/v1/analytics/meters/MB?${q(at(0), at(24))}`)).vehicleIds).toEqual(['EV-S'])
    expect((await get(`/v1/analytics/meters/MA?${q(at(7), at(11))}`)).vehicleIds).toEqual([])
  })

  it('applies the same rules in the efficiency alerts (whole hours)', async () => {
    const body = await get('/v1/analytics/efficiency/alerts?below=10&limit=500')
    expect(body.windowStart).toBe(at(0).toISOString())
    const items = body.items as { vehicleId: string; totalAcConsumed: number }[]
    for (const [vehicleId, parts] of [
      ['EV-S', evS()],
      ['P1', p1()],
    ] as const) {
      const expected = await rawAc(clip(parts, at(0), at(24)))
      expect(items.find((i) => i.vehicleId === vehicleId)?.totalAcConsumed, vehicleId).toBe(expected.ac)
    }
  })
})
