// Time series equal raw history per bucket, to the last digit. Buckets of the API are computed in
// JavaScript (Intl time-zone data); the reference groups raw history with PostgreSQL's own
// date_trunc(unit, ts, tz), so the two bucketings are checked against each other, across DST changes:
// two fleets, one over spring 2026 (New York and St John's 03-08, Berlin 03-29) and one over autumn
// 2026 (Berlin 10-25, New York and St John's 11-01), each with per-batch folded,
// materialised and open hours (see seedFleet), on unaligned random windows.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestDatabase, waitForReplica, type TestDatabase } from '@energy-ingest/testenv'
import { buildApp, type App } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { cut, cutRanges, planSeries, type Pieces } from '../../src/queries/series.js'
import { planSql } from '../../src/queries/window.js'
import { bucketsOf } from '../../src/time-buckets.js'
import { DAY, HOUR, prng, seedFleet, type Fleet } from './fixtures.js'

const env = inject('testenv')
const KEY = 'test-analytics-key'
const SEED = Number(process.env.ANALYTICS_TEST_SEED ?? Date.now() % 1_000_000)
// St John's: a half-hour offset with whole-hour DST changes. (Australia/Lord_Howe, whose DST change is
// 30 minutes, is left to the unit tests: there PostgreSQL's date_trunc('hour', ts, tz) starts an hour
// at an instant the local clock never showed, so it is no reference.)
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'America/St_Johns']
const UNITS = ['15m', 'hour', 'day'] as const
type Unit = (typeof UNITS)[number]

interface Setup {
  name: string
  now: number
  /** Instants of DST changes inside the fixture's 60 days, for windows around them. */
  transitions: string[]
  db?: TestDatabase
  app?: App
  raw?: pg.Pool
  fleet?: Fleet
}

const setups: Setup[] = [
  {
    name: 'spring',
    now: Date.parse('2026-04-12T00:00:30.000Z'),
    transitions: ['2026-03-08T05:30:00Z', '2026-03-08T07:00:00Z', '2026-03-29T01:00:00Z'],
  },
  {
    name: 'autumn',
    now: Date.parse('2026-11-20T00:00:30.000Z'),
    transitions: ['2026-10-25T01:00:00Z', '2026-11-01T04:30:00Z', '2026-11-01T06:00:00Z'],
  },
]

beforeAll(async () => {
  for (const [i, s] of setups.entries()) {
    s.db = await createTestDatabase(env)
    s.fleet = await seedFleet(s.db.url, SEED + 100 * i, s.now, { readings: 3_000 })
  }
  await waitForReplica(env.primaryUrl, env.replicaUrl)
  for (const s of setups) {
    s.app = await buildApp(
      loadConfig({ ANALYTICS_DATABASE_URL: s.db!.replicaUrl, ANALYTICS_API_KEYS: KEY }),
      { logger: false, now: () => s.now },
    )
    s.raw = new pg.Pool({ connectionString: s.db!.replicaUrl, max: 2, options: '-c TimeZone=UTC' })
  }
}, 600_000)

afterAll(async () => {
  for (const s of setups) {
    await s.app?.close()
    await s.raw?.end()
    await s.db?.drop()
  }
})

async function get(app: App, url: string, key = KEY) {
  const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } })
  return { status: res.statusCode, body: res.json() as Record<string, unknown> }
}

/** PostgreSQL's bucket of `col` in zone `$tz` (the reference bucketing). */
function bucketSql(unit: Unit, col: string): string {
  if (unit === '15m') {
    return `(date_trunc('hour', ${col}, $tz) + floor(extract(minute FROM ${col} AT TIME ZONE $tz) / 15) * interval '15 minutes')`
  }
  return `date_trunc('${unit}', ${col}, $tz)`
}

/** Replaces the named $tz placeholder by a positional one. */
const withTz = (sql: string, n: number) => sql.replaceAll('$tz', `$${n}::text`)

interface Window {
  from: Date
  to: Date
}

const q = (w: Window, unit: Unit, tz: string) =>
  `from=${encodeURIComponent(w.from.toISOString())}&to=${encodeURIComponent(w.to.toISOString())}&bucket=${unit}&tz=${encodeURIComponent(tz)}`

/** Random unaligned windows within the point limit, some around the fixture's DST changes. */
function windows(s: Setup, unit: Unit, count: number, rand: () => number): Window[] {
  const fleet = s.fleet!
  const maxLength = unit === '15m' ? 4 * DAY : unit === 'hour' ? 12 * DAY : 31 * DAY
  const out: Window[] = []
  for (let i = 0; i < count; i++) {
    const length = Math.floor(rand() * maxLength) + 1
    const from = fleet.start - DAY + Math.floor(rand() * (fleet.end - fleet.start + DAY - length))
    out.push({ from: new Date(from), to: new Date(from + length) })
  }
  for (const tr of s.transitions) {
    const at = Date.parse(tr)
    const before = Math.floor(rand() * 30 * HOUR) + 1
    const after = Math.floor(rand() * 30 * HOUR) + 1
    out.push({ from: new Date(at - before), to: new Date(at + after) })
  }
  return out
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v))

interface Point {
  start: string
  end: string
  [k: string]: unknown
}

/** The API's points keyed by bucket start (epoch ms); checks they tile the window. */
function pointsByStart(body: Record<string, unknown>, w: Window): Map<number, Point> {
  const points = body.points as Point[]
  expect(points.length).toBeGreaterThan(0)
  expect(Date.parse(points[0]!.start)).toBeLessThanOrEqual(w.from.getTime())
  expect(Date.parse(points[points.length - 1]!.end)).toBeGreaterThanOrEqual(w.to.getTime())
  for (let i = 1; i < points.length; i++) expect(points[i]!.start).toBe(points[i - 1]!.end)
  return new Map(points.map((p) => [Date.parse(p.start), p]))
}

describe.each(setups)(`series equal raw history per bucket (seed ${SEED}): $name`, (s) => {
  it('vehicle series: DC, AC by assignments, efficiency, temperature, SoC first/last, readings', async () => {
    const rand = prng(SEED + 11)
    for (const vehicleId of s.fleet!.vehicles) {
      for (const tz of ZONES) {
        const unit = UNITS[Math.floor(rand() * UNITS.length)]!
        for (const w of windows(s, unit, 1, rand)) {
          const url = `/v1/analytics/vehicles/${encodeURIComponent(vehicleId)}/series?${q(w, unit, tz)}`
          const { status, body } = await get(s.app!, url)
          expect(status, `${url}: ${JSON.stringify(body)}`).toBe(200)
          expect(body).toMatchObject({ vehicleId, bucket: unit, tz })
          const points = pointsByStart(body, w)
          const { rows: v } = await s.raw!.query(
            withTz(
              `SELECT ${bucketSql(unit, 'ts')} AS b, count(*)::int AS n, sum(kwh_delivered_dc)::text AS dc,
                      sum(battery_temp)::text AS tsum, max(battery_temp)::text AS tmax,
                      (array_agg(soc ORDER BY ts))[1]::text AS sfirst, (array_agg(soc ORDER BY ts DESC))[1]::text AS slast
                 FROM vehicle_history WHERE vehicle_id = $1 AND ts >= $2 AND ts < $3 GROUP BY 1`,
              4,
            ),
            [vehicleId, w.from, w.to, tz],
          )
          const { rows: a } = await s.raw!.query(
            withTz(
              `WITH a AS (
                 SELECT meter_id, GREATEST(valid_from, $2) AS f, LEAST(COALESCE(valid_to, 'infinity'), $3) AS t
                   FROM vehicle_meter_assignments WHERE vehicle_id = $1
                 UNION ALL
                 SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM vehicle_meter_assignments WHERE vehicle_id = $1)
               )
               SELECT ${bucketSql(unit, 'h.ts')} AS b, count(*)::int AS n, sum(h.kwh_consumed_ac)::text AS ac
                 FROM a JOIN meter_history h ON h.meter_id = a.meter_id AND h.ts >= a.f AND h.ts < a.t GROUP BY 1`,
              4,
            ),
            [vehicleId, w.from, w.to, tz],
          )
          const vBy = new Map(v.map((r) => [(r.b as Date).getTime(), r]))
          const aBy = new Map(a.map((r) => [(r.b as Date).getTime(), r]))
          for (const b of [...vBy.keys(), ...aBy.keys()])
            expect(points.has(b), `reference bucket ${new Date(b).toISOString()} ${url}`).toBe(true)
          for (const [b, p] of points) {
            const rv = vBy.get(b)
            const ra = aBy.get(b)
            const dc = Number(rv?.dc ?? 0)
            const ac = Number(ra?.ac ?? 0)
            const n = (rv?.n as number | undefined) ?? 0
            expect(p, `${p.start} ${url}`).toEqual({
              start: p.start,
              end: p.end,
              totalDcDelivered: dc,
              totalAcConsumed: ac,
              efficiencyRatio: ac > 0 ? dc / ac : null,
              batteryTemp: { avg: n > 0 ? Number(rv!.tsum) / n : null, max: num(rv?.tmax) },
              soc: { first: num(rv?.sfirst), last: num(rv?.slast) },
              readings: { vehicle: n, meter: (ra?.n as number | undefined) ?? 0 },
            })
          }
        }
      }
    }
  })

  it('meter series: AC, voltage avg/min/max and readings', async () => {
    const rand = prng(SEED + 12)
    for (const meterId of s.fleet!.meters) {
      for (const tz of ZONES) {
        const unit = UNITS[Math.floor(rand() * UNITS.length)]!
        for (const w of windows(s, unit, 1, rand)) {
          const url = `/v1/analytics/meters/${encodeURIComponent(meterId)}/series?${q(w, unit, tz)}`
          const { status, body } = await get(s.app!, url)
          expect(status, `${url}: ${JSON.stringify(body)}`).toBe(200)
          const points = pointsByStart(body, w)
          const { rows } = await s.raw!.query(
            withTz(
              `SELECT ${bucketSql(unit, 'ts')} AS b, count(*)::int AS n, sum(kwh_consumed_ac)::text AS ac,
                      sum(voltage)::text AS vsum, min(voltage)::text AS vmin, max(voltage)::text AS vmax
                 FROM meter_history WHERE meter_id = $1 AND ts >= $2 AND ts < $3 GROUP BY 1`,
              4,
            ),
            [meterId, w.from, w.to, tz],
          )
          const by = new Map(rows.map((r) => [(r.b as Date).getTime(), r]))
          for (const b of by.keys()) expect(points.has(b), `${new Date(b).toISOString()} ${url}`).toBe(true)
          for (const [b, p] of points) {
            const r = by.get(b)
            const n = (r?.n as number | undefined) ?? 0
            expect(p, `${p.start} ${url}`).toEqual({
              start: p.start,
              end: p.end,
              totalAcConsumed: Number(r?.ac ?? 0),
              voltage: { avg: n > 0 ? Number(r!.vsum) / n : null, min: num(r?.vmin), max: num(r?.vmax) },
              readings: n,
            })
          }
        }
      }
    }
  })

  it('fleet series: AC, DC, efficiency, average temperature and readings', async () => {
    const rand = prng(SEED + 13)
    for (const tz of ZONES) {
      for (const unit of UNITS) {
        for (const w of windows(s, unit, 1, rand)) {
          const url = `/v1/analytics/fleet/series?${q(w, unit, tz)}`
          const { status, body } = await get(s.app!, url)
          expect(status, `${url}: ${JSON.stringify(body)}`).toBe(200)
          const points = pointsByStart(body, w)
          const { rows } = await s.raw!.query(
            withTz(
              `SELECT b, sum(mn)::int AS mn, COALESCE(sum(ac), 0)::text AS ac, sum(vn)::int AS vn,
                      COALESCE(sum(dc), 0)::text AS dc, sum(tsum)::text AS tsum FROM (
                 SELECT ${bucketSql(unit, 'ts')} AS b, 1 AS mn, kwh_consumed_ac AS ac, 0 AS vn, NULL::numeric AS dc, NULL::numeric AS tsum
                   FROM meter_history WHERE ts >= $1 AND ts < $2
                 UNION ALL
                 SELECT ${bucketSql(unit, 'ts')}, 0, NULL, 1, kwh_delivered_dc, battery_temp
                   FROM vehicle_history WHERE ts >= $1 AND ts < $2) x GROUP BY 1`,
              3,
            ),
            [w.from, w.to, tz],
          )
          const by = new Map(rows.map((r) => [(r.b as Date).getTime(), r]))
          for (const b of by.keys()) expect(points.has(b), `${new Date(b).toISOString()} ${url}`).toBe(true)
          for (const [b, p] of points) {
            const r = by.get(b)
            const ac = Number(r?.ac ?? 0)
            const dc = Number(r?.dc ?? 0)
            const vn = (r?.vn as number | undefined) ?? 0
            expect(p, `${p.start} ${url}`).toEqual({
              start: p.start,
              end: p.end,
              totalAcConsumed: ac,
              totalDcDelivered: dc,
              efficiencyRatio: ac > 0 ? dc / ac : null,
              avgBatteryTemp: vn > 0 ? Number(r!.tsum) / vn : null,
              readings: { meter: (r?.mn as number | undefined) ?? 0, vehicle: vn },
            })
          }
        }
      }
    }
  })
})

describe('series API behaviour', () => {
  const s = setups[1]!

  it('labels buckets with the zone offset: a 25 h day and a repeated hour in Berlin', async () => {
    const day = await get(
      s.app!,
      '/v1/analytics/fleet/series?from=2026-10-24T22:00:00Z&to=2026-10-26T23:00:00Z&bucket=day&tz=europe/berlin',
    )
    expect(day.status).toBe(200)
    expect(day.body.tz).toBe('Europe/Berlin')
    expect((day.body.points as Point[]).map((p) => [p.start, p.end])).toEqual([
      ['2026-10-25T00:00:00+02:00', '2026-10-26T00:00:00+01:00'],
      ['2026-10-26T00:00:00+01:00', '2026-10-27T00:00:00+01:00'],
    ])
    const hour = await get(
      s.app!,
      '/v1/analytics/meters/M-a/series?from=2026-10-25T00:00:00Z&to=2026-10-25T02:00:00Z&bucket=hour&tz=Europe/Berlin',
    )
    expect((hour.body.points as Point[]).map((p) => p.start)).toEqual([
      '2026-10-25T02:00:00+02:00',
      '2026-10-25T02:00:00+01:00',
    ])
  })

  it('defaults to hourly UTC buckets over the 24 h ending at the end of the current minute', async () => {
    const res = await get(s.app!, '/v1/analytics/fleet/series')
    expect(res.status).toBe(200)
    const end = Math.ceil(s.now / 60_000) * 60_000
    expect(res.body).toMatchObject({ bucket: 'hour', tz: 'UTC', windowEnd: new Date(end).toISOString() })
    expect((res.body.points as Point[]).length).toBe(25) // the window ends a minute past a whole hour
  })

  it.each([
    ['/v1/analytics/fleet/series?tz=Mars/Olympus', 400, 'tz'],
    ['/v1/analytics/fleet/series?tz=%2B02:00', 400, 'tz'],
    ['/v1/analytics/fleet/series?bucket=week', 400, 'bucket'],
    [
      '/v1/analytics/fleet/series?bucket=15m&from=2026-10-01T00:00:00Z&to=2026-10-31T00:00:00Z',
      400,
      'limit of 2000',
    ],
    ['/v1/analytics/vehicles/EV-1/series?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z', 400, '31 days'],
    ['/v1/analytics/vehicles/EV-1/series?from=soon', 400, 'from'],
    ['/v1/analytics/vehicles/bad%20id/series', 400, 'vehicleId'],
    ['/v1/analytics/vehicles/nobody/series', 404, 'nobody'],
    ['/v1/analytics/meters/nobody/series', 404, 'nobody'],
  ])('%s is a %i naming %s', async (url, status, word) => {
    const res = await get(s.app!, url)
    expect(res.status).toBe(status)
    expect(String(res.body.message)).toContain(word)
  })

  it('requires the API key', async () => {
    expect((await get(s.app!, '/v1/analytics/fleet/series', 'wrong')).status).toBe(401)
  })
})

describe('the series plan in SQL', () => {
  it('reads the same hours from rollups and the same ranges from history as planSeries', async () => {
    const rand = prng(SEED + 11)
    const raw = setups[0]!.raw!
    const sql = `WITH p AS (${planSql('$1', '$2', '$3')})
      SELECT 'rollup' AS part, h AS lo, h + interval '1 hour' AS hi
        FROM p, generate_series(p.rf, p.rt - interval '1 hour', interval '1 hour') AS h WHERE NOT ${cut('h')}
      UNION ALL SELECT 'history', h1f, h1t FROM p
      UNION ALL SELECT 'history', h2f, h2t FROM p
      UNION ALL SELECT 'history', c.lo, c.hi FROM p, LATERAL (${cutRanges('p.rf', 'p.rt')}) c`
    /** Non-empty ranges, sorted, adjacent ones merged. */
    const merged = (ranges: [number, number][]) => {
      const out: [number, number][] = []
      for (const [lo, hi] of ranges.filter(([lo, hi]) => lo < hi).sort((a, b) => a[0] - b[0])) {
        const last = out[out.length - 1]
        if (last && last[1] === lo) last[1] = hi
        else out.push([lo, hi])
      }
      return out
    }
    const ofPieces = (p: Pieces) => merged(p.from.map((f, i) => [Date.parse(f), Date.parse(p.to[i]!)]))
    const base = Date.UTC(2026, 2, 1)
    for (let i = 0; i < 120; i++) {
      const tz = ZONES[Math.floor(rand() * ZONES.length)]!
      const unit = UNITS[Math.floor(rand() * UNITS.length)]!
      const grain = rand() < 0.3 ? HOUR : 1
      const from = base + Math.floor((rand() * 60 * DAY) / grain) * grain
      const to = from + Math.floor((rand() * (unit === '15m' ? 3 : 20) * DAY) / grain) * grain + 1
      const wm = rand() < 0.15 ? Infinity : Math.floor((from + (rand() - 0.2) * 10 * DAY) / HOUR) * HOUR
      const starts = bucketsOf(tz, unit, from, to).map((b) => b.start)
      const { rows } = await raw.query<{ part: string; lo: Date; hi: Date }>(sql, [
        new Date(from),
        new Date(to),
        wm === Infinity ? 'infinity' : new Date(wm),
        starts.map((st) => new Date(st).toISOString()),
      ])
      const part = (name: string) =>
        merged(rows.filter((r) => r.part === name).map((r) => [r.lo.getTime(), r.hi.getTime()]))
      const plan = planSeries(
        [{ deviceId: 'D', range: { from: new Date(from), to: new Date(to) } }],
        starts,
        wm,
      )
      const label = `${tz} ${unit} ${new Date(from).toISOString()} ${new Date(to).toISOString()} ${wm}`
      expect(part('rollup'), label).toEqual(ofPieces(plan.rollup))
      expect(part('history'), label).toEqual(ofPieces(plan.history))
    }
  })
})
