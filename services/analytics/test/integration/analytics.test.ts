import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestDatabase, waitForReplica, type TestDatabase } from '@energy-ingest/testenv'
import { buildApp, type App } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { planSql, planWindow } from '../../src/queries/window.js'
import { DAY, beat, prng, rawMeter, rawVehicle, rawVehicleAc, seedFleet, type Fleet } from './fixtures.js'

const env = inject('testenv')
const KEY = 'test-analytics-key'
const SEED = Number(process.env.ANALYTICS_TEST_SEED ?? Date.now() % 1_000_000)
/**
 * The app's clock and the fixture's end: half a minute into a new year, so the 60-day history spans
 * three month partitions and a year boundary, and default windows end across it, on any real date.
 */
const NOW = Date.parse('2027-01-01T00:00:30.000Z')

let db: TestDatabase
let app: App
let raw: pg.Pool
let fleet: Fleet

const num = (v: unknown) => (v === null ? null : Number(v))
const isoOrNull = (v: unknown) => (v === null ? null : (v as Date).toISOString())

async function get(url: string, key: string | null = KEY) {
  const res = await app.inject({
    method: 'GET',
    url,
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
  })
  return { status: res.statusCode, body: res.json() as Record<string, unknown> }
}

beforeAll(async () => {
  db = await createTestDatabase(env)
  fleet = await seedFleet(db.url, SEED, NOW)
  await waitForReplica(env.primaryUrl, env.replicaUrl)
  app = await buildApp(loadConfig({ ANALYTICS_DATABASE_URL: db.replicaUrl, ANALYTICS_API_KEYS: KEY }), {
    logger: false,
    now: () => NOW,
  })
  raw = new pg.Pool({ connectionString: db.replicaUrl, max: 2 })
})

afterAll(async () => {
  await app?.close()
  await raw?.end()
  await db?.drop()
})

/** Random windows: unaligned, from a few minutes to 31 days, some crossing the rollup watermarks. */
function randomWindows(count: number, rand: () => number): { from: Date; to: Date }[] {
  const windows: { from: Date; to: Date }[] = []
  for (let i = 0; i < count; i++) {
    const length = rand() < 0.3 ? Math.floor(rand() * 3 * 3_600_000) + 1 : Math.floor(rand() * 31 * DAY) + 1
    const from = fleet.start - DAY + Math.floor(rand() * (fleet.end - fleet.start + DAY - length))
    windows.push({ from: new Date(from), to: new Date(from + length) })
  }
  // The default 24 h and windows that end now.
  windows.push({ from: new Date(fleet.end - DAY + 1234), to: new Date(fleet.end + 1234) })
  return windows
}

const q = (w: { from: Date; to: Date }) =>
  `from=${encodeURIComponent(w.from.toISOString())}&to=${encodeURIComponent(w.to.toISOString())}`

describe(`analytics equals raw history (seed ${SEED})`, () => {
  it('performance: totals, efficiency, temperature and counted meters match raw history', async () => {
    const rand = prng(SEED + 1)
    for (const vehicleId of fleet.vehicles) {
      for (const w of randomWindows(12, rand)) {
        const { status, body } = await get(
          `/v1/analytics/performance/${encodeURIComponent(vehicleId)}?${q(w)}`,
        )
        expect(status).toBe(200)
        const v = await rawVehicle(raw, vehicleId, w.from, w.to)
        const a = await rawVehicleAc(raw, vehicleId, w.from, w.to)
        const dc = Number(v.dc)
        const ac = Number(a.ac)
        expect(body, `${vehicleId} ${q(w)}`).toMatchObject({
          vehicleId,
          windowStart: w.from.toISOString(),
          windowEnd: w.to.toISOString(),
          totalDcDelivered: dc,
          totalAcConsumed: ac,
          efficiencyRatio: ac > 0 ? dc / ac : null,
          avgBatteryTemp: (v.n as number) > 0 ? Number(v.tsum) / (v.n as number) : null,
          readings: { vehicle: v.n, meter: a.n },
        })
        expect(body.meterIds).toEqual([...a.meters].sort())
      }
    }
  })

  it('meter and vehicle summaries match raw history, min/max and first/last included', async () => {
    const rand = prng(SEED + 2)
    for (const meterId of fleet.meters) {
      for (const w of randomWindows(8, rand)) {
        const { status, body } = await get(`/v1/analytics/meters/${encodeURIComponent(meterId)}?${q(w)}`)
        expect(status).toBe(200)
        const m = await rawMeter(raw, meterId, w.from, w.to)
        const n = m.n as number
        expect(body, `${meterId} ${q(w)}`).toMatchObject({
          meterId,
          totalAcConsumed: Number(m.ac),
          voltage: { avg: n > 0 ? Number(m.vsum) / n : null, min: num(m.vmin), max: num(m.vmax) },
          readings: n,
          firstReadingAt: isoOrNull(m.first_ts),
          lastReadingAt: isoOrNull(m.last_ts),
        })
      }
    }
    for (const vehicleId of fleet.vehicles) {
      for (const w of randomWindows(8, rand)) {
        const { status, body } = await get(`/v1/analytics/vehicles/${encodeURIComponent(vehicleId)}?${q(w)}`)
        expect(status).toBe(200)
        const v = await rawVehicle(raw, vehicleId, w.from, w.to)
        const n = v.n as number
        expect(body, `${vehicleId} ${q(w)}`).toMatchObject({
          totalDcDelivered: Number(v.dc),
          soc: { first: num(v.sfirst), last: num(v.slast), min: num(v.smin), max: num(v.smax) },
          batteryTemp: { avg: n > 0 ? Number(v.tsum) / n : null, min: num(v.tmin), max: num(v.tmax) },
          readings: n,
          firstReadingAt: isoOrNull(v.first_ts),
          lastReadingAt: isoOrNull(v.last_ts),
        })
      }
    }
  })

  it('fleet summary totals and active counts match raw history', async () => {
    const rand = prng(SEED + 3)
    // Readings fall on whole minutes: windows cut just after or before readings, so that each way of
    // reading an edge minute meets one. Up to half covered: read from history; more than half: the
    // minute's rollup less the part left out (here the reading at its start). Also a window inside one
    // minute, one inside an hour, and the default window.
    const { rows: stamps } = await raw.query<{ ts: Date }>(
      `SELECT ts FROM (SELECT ts FROM meter_history UNION SELECT ts FROM vehicle_history) t ORDER BY ts`,
    )
    const t = (share: number) => stamps[Math.floor(share * stamps.length)]!.ts.getTime()
    const span = (from: number, to: number) => ({ from: new Date(from), to: new Date(to) })
    const edgeWindows = [
      span(t(0.3) + 10_000, t(0.45) + 50_000),
      span(t(0.3) - 50_000, t(0.45) + 10_000),
      span(t(0.6) + 10_000, t(0.6) + 2 * 3_600_000 + 10_000),
      span(t(0.7) - 5_000, t(0.7) + 5_000),
      span(t(0.8) + 45_000, t(0.8) + 40 * 60_000 + 15_000),
    ]
    for (const given of [...randomWindows(10, rand), ...edgeWindows, undefined]) {
      let w = given
      const { status, body } = await get(`/v1/analytics/fleet/summary${w ? `?${q(w)}` : ''}`)
      expect(status).toBe(200)
      if (!w) {
        // The default window: the 24 h ending at the end of the app's current minute.
        expect(body).toMatchObject({
          windowEnd: '2027-01-01T00:01:00.000Z',
          windowStart: '2026-12-31T00:01:00.000Z',
        })
        w = { from: new Date(body.windowStart as string), to: new Date(body.windowEnd as string) }
      }
      const { rows } = await raw.query(
        `SELECT (SELECT count(DISTINCT meter_id) FROM meter_history WHERE ts >= $1 AND ts < $2)::int AS ma,
                (SELECT COALESCE(sum(kwh_consumed_ac), 0)::text FROM meter_history WHERE ts >= $1 AND ts < $2) AS ac,
                (SELECT count(*) FROM meter_history WHERE ts >= $1 AND ts < $2)::int AS mn,
                (SELECT count(DISTINCT vehicle_id) FROM vehicle_history WHERE ts >= $1 AND ts < $2)::int AS va,
                (SELECT COALESCE(sum(kwh_delivered_dc), 0)::text FROM vehicle_history WHERE ts >= $1 AND ts < $2) AS dc,
                (SELECT count(*) FROM vehicle_history WHERE ts >= $1 AND ts < $2)::int AS vn,
                (SELECT sum(battery_temp)::text FROM vehicle_history WHERE ts >= $1 AND ts < $2) AS tsum`,
        [w.from, w.to],
      )
      const r = rows[0]
      const ac = Number(r.ac)
      const dc = Number(r.dc)
      expect(body, q(w)).toMatchObject({
        meters: { active: r.ma, totalAcConsumed: ac, readings: r.mn },
        vehicles: {
          active: r.va,
          totalDcDelivered: dc,
          readings: r.vn,
          avgBatteryTemp: r.vn > 0 ? Number(r.tsum) / r.vn : null,
        },
        fleetEfficiencyRatio: ac > 0 ? dc / ac : null,
      })
    }
  })
})

describe('analytics API behaviour', () => {
  it('serves the live rows and 404s unknown devices', async () => {
    const live = await get('/v1/vehicles/EV-1/live')
    expect(live.status).toBe(200)
    const { rows } = await raw.query(`SELECT max(ts) AS ts FROM vehicle_history WHERE vehicle_id = 'EV-1'`)
    expect(live.body.timestamp).toBe((rows[0].ts as Date).toISOString())
    expect((await get('/v1/meters/M-a/live')).status).toBe(200)
    for (const url of [
      '/v1/vehicles/nobody/live',
      '/v1/meters/nobody/live',
      '/v1/analytics/performance/nobody',
      '/v1/analytics/meters/nobody',
      '/v1/analytics/vehicles/nobody',
    ]) {
      const res = await get(url)
      expect(res.status, url).toBe(404)
      expect(res.body.code).toBe('ANALYTICS_DEVICE_NOT_FOUND')
    }
  })

  it.each([
    ['/v1/analytics/performance/bad%20id', 'vehicleId'],
    ['/v1/analytics/performance/EV-1?from=yesterday', 'from'],
    ['/v1/analytics/performance/EV-1?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'before'],
    ['/v1/analytics/performance/EV-1?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z', '31 days'],
    ['/v1/analytics/performance/EV-1?window=7d', 'window'],
    ['/v1/analytics/efficiency/alerts?below=-1', 'below'],
    ['/v1/analytics/efficiency/alerts?below=abc', 'below'],
    ['/v1/analytics/efficiency/alerts?limit=0', 'limit'],
    ['/v1/analytics/fleet/summary?to=2026-13-01T00:00:00Z', 'to'],
  ])('%s is a 400 naming %s', async (url, word) => {
    const res = await get(url)
    expect(res.status).toBe(400)
    expect(String(res.body.message)).toContain(word)
  })

  it.each([
    '/v1/analytics/performance/EV-1',
    '/v1/analytics/performance/V1',
    '/v1/analytics/performance/EV-unassigned',
    '/v1/analytics/vehicles/EV-2',
    '/v1/analytics/meters/M-a',
    '/v1/analytics/performance/nobody',
    '/v1/analytics/meters/nobody',
    '/v1/analytics/fleet/summary',
    '/v1/analytics/fleet/summary?from=2026-12-30T10:17:50.123Z&to=2026-12-31T10:17:10Z',
    '/v1/analytics/vehicles/EV-1/series',
    '/v1/analytics/vehicles/EV-2/series?bucket=day&tz=Asia/Kolkata&from=2026-12-01T10:17:00Z&to=2026-12-20T03:00:00Z',
    '/v1/analytics/meters/M-a/series?bucket=15m&from=2026-12-30T10:17:50.123Z&to=2026-12-31T10:17:10Z',
    '/v1/analytics/vehicles/nobody/series',
    '/v1/analytics/fleet/series',
    '/v1/analytics/efficiency/alerts',
    '/v1/analytics/efficiency/alerts?below=10&limit=1&offset=1',
  ])('%s answers with one statement: one round trip, no BEGIN or COMMIT', async (url) => {
    // The pool's connection exists, the statement is prepared and the efficiency alerts are kept.
    await get(url)
    const sent: string[] = []
    const original = pg.Client.prototype.query
    const spy = function (this: pg.Client, ...args: unknown[]) {
      const first = args[0]
      sent.push(typeof first === 'string' ? first : String((first as { text?: string }).text))
      // The spy passes every call through unchanged; pg's overloads cannot be named in one signature.
      return (original as unknown as (...a: unknown[]) => unknown).apply(this, args)
    }
    pg.Client.prototype.query = spy as unknown as typeof original
    let status: number
    try {
      status = (await get(url)).status
    } finally {
      pg.Client.prototype.query = original
    }
    expect([200, 404]).toContain(status)
    expect(sent.map((text) => text.trim().slice(0, 60))).toHaveLength(1)
    expect(sent[0]).not.toMatch(/^\s*(BEGIN|COMMIT)/i)
  })

  it('plans windows in SQL exactly as planWindow does', async () => {
    const rand = prng(SEED + 7)
    const HOUR_MS = 3_600_000
    const base = Date.UTC(2026, 0, 1)
    const cases: [Date, Date, Date | number][] = []
    for (let i = 0; i < 300; i++) {
      // Whole hours and minutes in a third of the cases, so boundaries meet the watermark exactly.
      const grain = rand() < 0.33 ? HOUR_MS : rand() < 0.5 ? 60_000 : 1
      const from = base + Math.floor((rand() * 5e8) / grain) * grain
      const to = from + Math.floor((rand() * 2e8) / grain) * grain - (rand() < 0.05 ? 3e8 : 0)
      const wm = Math.floor((from + (rand() - 0.2) * 3e8) / HOUR_MS) * HOUR_MS
      cases.push([new Date(from), new Date(to), rand() < 0.1 ? Infinity : rand() < 0.05 ? 0 : new Date(wm)])
    }
    const { rows } = await raw.query<Record<string, Date>>(
      `SELECT p.* FROM unnest($1::timestamptz[], $2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS w(f, t, cb, i),
              LATERAL (${planSql('w.f', 'w.t', 'w.cb')}) p ORDER BY w.i`,
      [
        cases.map((c) => c[0]),
        cases.map((c) => c[1]),
        cases.map((c) => (c[2] === Infinity ? 'infinity' : c[2] === 0 ? new Date(0) : c[2])),
      ],
    )
    const nonEmpty = (ranges: { from: Date; to: Date }[]) =>
      ranges
        .filter((r) => r.from.getTime() < r.to.getTime())
        .map((r) => `${r.from.toISOString()}/${r.to.toISOString()}`)
    rows.forEach((r, i) => {
      const [from, to, wm] = cases[i]!
      const plan = planWindow({ from, to }, wm)
      const label = `${from.toISOString()} ${to.toISOString()} ${String(wm)}`
      expect(nonEmpty([{ from: r.rf!, to: r.rt! }]), label).toEqual(
        nonEmpty(plan.rollup ? [plan.rollup] : []),
      )
      expect(
        nonEmpty([
          { from: r.h1f!, to: r.h1t! },
          { from: r.h2f!, to: r.h2t! },
        ]),
        label,
      ).toEqual(nonEmpty(plan.history))
    })
  })

  it('requires an API key', async () => {
    expect((await get('/v1/analytics/fleet/summary', null)).status).toBe(401)
    expect((await get('/v1/analytics/fleet/summary', 'wrong')).status).toBe(401)
    expect((await get('/health/live', null)).status).toBe(200)
  })

  it('reads from a server in recovery (the replica) and reports it ready', async () => {
    const { rows } = await app.replica.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')
    expect(rows[0]?.r).toBe(true)
    await beat(env, db)
    const ready = await get('/health/ready', null)
    expect(ready.status).toBe(200)
    const checks = ready.body.checks as { replica: { details: { replica: boolean } } }
    expect(checks.replica.details.replica).toBe(true)
  })

  it('refuses readiness on a primary unless allowed', async () => {
    const onPrimary = await buildApp(
      loadConfig({ ANALYTICS_DATABASE_URL: db.url, ANALYTICS_API_KEYS: KEY }),
      { logger: false },
    )
    try {
      const res = await onPrimary.inject({ method: 'GET', url: '/health/ready' })
      expect(res.statusCode).toBe(503)
      expect(res.json().checks.replica.details.problems).toContain('connected server is not a read replica')
    } finally {
      await onPrimary.close()
    }
  })

  it('lists efficiency alerts worst first, paginated, consistent with the fleet summary', async () => {
    const all = await get('/v1/analytics/efficiency/alerts?below=10&limit=500')
    expect(all.status).toBe(200)
    const items = all.body.items as { vehicleId: string; efficiencyRatio: number }[]
    expect(all.body.total).toBe(items.length)
    const ratios = items.map((i) => i.efficiencyRatio)
    expect(ratios).toEqual([...ratios].sort((a, b) => a - b))
    const page = await get('/v1/analytics/efficiency/alerts?below=10&limit=1&offset=1')
    expect(page.body.items).toEqual(items.slice(1, 2))
    const summary = await get('/v1/analytics/fleet/summary')
    const below = await get(`/v1/analytics/efficiency/alerts?below=${summary.body.threshold}`)
    expect(summary.body.vehiclesBelowThreshold).toBe(below.body.total)
  })
})
