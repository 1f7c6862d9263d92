// Every statement the analytics routes send is EXPLAINed against a history of 1 M rows over 20,000
// devices: none may sequentially scan a history or rollup table (only index/bitmap scans and pruning).
// The fixture and the app's clock are pinned to one instant in the middle of a month, so every
// partition a plan touches holds a large share of the rows whatever the date the suite runs on (on
// the first day of a real month, the new month's partition would be tiny and rightly seq-scanned).
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  closeHours,
  ensureMonths,
  setRollupMode,
  upsertAssignments,
  withTransaction,
} from '@energy-ingest/db'
import { createTestDatabase, waitForReplica, type TestDatabase } from '@energy-ingest/testenv'
import { buildApp, type App } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { DAY, HOUR } from './fixtures.js'

const env = inject('testenv')
const DEVICES = 10_000 // per kind
const READINGS_PER_DEVICE = 50 // 2 x 10,000 x 50 = 1,000,000 history rows
const KEY = 'k'
/** "Now" for the fixture and the app: mid-month, so both months the 30-day history spans are large. */
const NOW = Date.parse('2026-06-15T12:00:00.000Z')
/** A partition with fewer rows than this may rightly be seq-scanned; none in the fixture is that small. */
const LARGE_PARTITION_ROWS = 100_000

let db: TestDatabase
let app: App
const plans: { sql: string; plan: string }[] = []
const originalQuery = pg.Client.prototype.query
type AnyQuery = (this: pg.Client, ...args: unknown[]) => Promise<pg.QueryResult>
const callOriginal = (client: pg.Client, args: unknown[]) =>
  (originalQuery as unknown as AnyQuery).apply(client, args)

async function load(primaryUrl: string, end: number): Promise<void> {
  const start = end - 30 * DAY
  const client = new pg.Client({ connectionString: primaryUrl })
  await client.connect()
  try {
    const months = [new Date(start), new Date(start + 15 * DAY), new Date(end)]
    await ensureMonths(client, ['meter', 'vehicle'], months)
    const closed = new Date(Math.floor(start / HOUR) * HOUR)
    for (const kind of ['meter', 'vehicle'] as const)
      await setRollupMode(client, kind, { perBatch: false, closedBefore: closed })
    // Device i reports every ~14 h with a per-device offset: readings spread over the whole month.
    const step = `(interval '30 days' / ${READINGS_PER_DEVICE})`
    await client.query(
      `INSERT INTO meter_history (meter_id, ts, kwh_consumed_ac, voltage)
       SELECT 'M-' || d, to_timestamp($1 / 1000.0) + (r * ${step}) + (d % 600) * interval '1 minute',
              round((random() * 2)::numeric, 4), round((225 + random() * 10)::numeric, 2)
         FROM generate_series(1, ${DEVICES}) d, generate_series(0, ${READINGS_PER_DEVICE - 1}) r`,
      [start],
    )
    await client.query(
      `INSERT INTO vehicle_history (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp)
       SELECT 'V-' || d, to_timestamp($1 / 1000.0) + (r * ${step}) + (d % 600) * interval '1 minute',
              round((random() * 100)::numeric, 1), round((random() * 1.8)::numeric, 4), round((20 + random() * 15)::numeric, 2)
         FROM generate_series(1, ${DEVICES}) d, generate_series(0, ${READINGS_PER_DEVICE - 1}) r`,
      [start],
    )
    await client.query(`INSERT INTO meter_live (meter_id, ts, kwh_consumed_ac, voltage)
      SELECT DISTINCT ON (meter_id) meter_id, ts, kwh_consumed_ac, voltage FROM meter_history ORDER BY meter_id, ts DESC`)
    await client.query(`INSERT INTO vehicle_live (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp)
      SELECT DISTINCT ON (vehicle_id) vehicle_id, ts, soc, kwh_delivered_dc, battery_temp FROM vehicle_history ORDER BY vehicle_id, ts DESC`)
    await client.query(`INSERT INTO meter_fleet_minutely (minute, shard, readings, kwh_consumed_ac_sum)
      SELECT date_trunc('minute', ts), 0, count(*), sum(kwh_consumed_ac) FROM meter_history GROUP BY 1`)
    await client.query(`INSERT INTO vehicle_fleet_minutely (minute, shard, readings, kwh_delivered_dc_sum, battery_temp_sum)
      SELECT date_trunc('minute', ts), 0, count(*), sum(kwh_delivered_dc), sum(battery_temp) FROM vehicle_history GROUP BY 1`)
    await withTransaction(client, () =>
      upsertAssignments(
        client,
        Array.from({ length: DEVICES }, (_, i) => ({
          vehicleId: `V-${i + 1}`,
          meterId: `M-${i + 1}`,
          validFrom: new Date(start - DAY).toISOString(),
        })),
      ),
    )
    // Materialise every hour but the last two days, so the open hours come from history.
    for (const kind of ['meter', 'vehicle'] as const) {
      await closeHours(client, kind, {
        upTo: new Date(Math.floor((end - 2 * DAY) / HOUR) * HOUR),
        maxHours: 24 * 40,
      })
    }
    await client.query('ANALYZE')
  } finally {
    await client.end()
  }
}

beforeAll(async () => {
  db = await createTestDatabase(env)
  await load(db.url, NOW)
  await waitForReplica(env.primaryUrl, env.replicaUrl, 60_000)
  app = await buildApp(loadConfig({ ANALYTICS_DATABASE_URL: db.replicaUrl, ANALYTICS_API_KEYS: KEY }), {
    logger: false,
    now: () => NOW,
  })
  // Instrument the real driver: every SELECT of the data the app sends is EXPLAINed (same text, same parameters)
  // before it runs. Nothing is faked; the queries still run and answer.
  pg.Client.prototype.query = async function (this: pg.Client, ...args: unknown[]) {
    // A statement comes as text and values, or as a config object (the named, prepared statements).
    const [first, second] = args as [unknown, unknown[] | undefined]
    const config = typeof first === 'object' && first !== null ? (first as pg.QueryConfig) : null
    const text = config ? config.text : first
    const values = config ? config.values : second
    if (
      typeof text === 'string' &&
      /^\s*(SELECT|WITH)\b/i.test(text) &&
      // Every statement that reads readings, rollups or assignments (not the health and state probes).
      /_(history|hourly|minutely|live)\b|vehicle_meter_assignments/.test(text)
    ) {
      const explained = await callOriginal(this, [`EXPLAIN ${text}`, values])
      plans.push({
        sql: text,
        plan: (explained.rows as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join('\n'),
      })
    }
    return callOriginal(this, args)
  } as typeof pg.Client.prototype.query
}, 300_000)

afterAll(async () => {
  pg.Client.prototype.query = originalQuery
  await app?.close()
  await db?.drop()
})

describe('query plans at 1 M history rows and 20,000 devices', () => {
  it('no analytics route sequentially scans a history or rollup table', async () => {
    const now = NOW
    const unaligned = `from=${new Date(now - 5 * DAY - 1_234_567).toISOString()}&to=${new Date(now - 3 * DAY + 7_654_321).toISOString()}`
    const week = `from=${new Date(now - 7 * DAY - 2_345_678).toISOString()}&to=${new Date(now - 1_234).toISOString()}`
    const urls = [
      '/v1/analytics/performance/V-42',
      `/v1/analytics/performance/V-42?${unaligned}`,
      '/v1/analytics/meters/M-42',
      `/v1/analytics/meters/M-42?${unaligned}`,
      '/v1/analytics/vehicles/V-4242',
      `/v1/analytics/vehicles/V-4242?${unaligned}`,
      '/v1/analytics/fleet/summary',
      `/v1/analytics/fleet/summary?${unaligned}`,
      '/v1/analytics/efficiency/alerts?below=0.9',
      `/v1/analytics/vehicles/V-42/series?${unaligned}&bucket=hour&tz=Europe/Berlin`,
      `/v1/analytics/vehicles/V-4242/series?${week}&bucket=day&tz=America/New_York`,
      `/v1/analytics/meters/M-42/series?${unaligned}&bucket=15m`,
      `/v1/analytics/meters/M-42/series?${week}&bucket=day&tz=Asia/Kolkata`,
      `/v1/analytics/fleet/series?${unaligned}&bucket=hour&tz=Europe/Berlin`,
      `/v1/analytics/fleet/series?${week}&bucket=day&tz=America/New_York`,
      '/v1/analytics/fleet/series?bucket=15m',
      '/v1/vehicles/V-7/live',
      '/v1/meters/M-7/live',
    ]
    for (const url of urls) {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${KEY}` } })
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200)
    }
    expect(plans.length).toBeGreaterThanOrEqual(urls.length)
    const scansHistoryOrRollups = /Seq Scan on (meter|vehicle)_(history|hourly|fleet_minutely|fleet_hourly)/
    const offenders = plans.filter((p) => scansHistoryOrRollups.test(p.plan))
    expect(offenders.map((o) => `${o.sql}\n${o.plan}`)).toEqual([])
    // The per-device statements really do read history and rollups (by index).
    expect(
      plans.some((p) => /Index (Only )?Scan .* on (meter|vehicle)_history_\d{4}_\d{2}/.test(p.plan)),
    ).toBe(true)
    expect(
      plans.some((p) => /Index (Only )?Scan .* on (meter|vehicle)_hourly_\d{4}_\d{2}/.test(p.plan)),
    ).toBe(true)
    // The plans are only meaningful if every partition they touch is large: check the statistics the
    // planner read, so a fixture that drifts into a near-empty partition fails here, not silently.
    const touched = new Set(
      plans.flatMap((p) =>
        [...p.plan.matchAll(/on ((?:meter|vehicle)_(?:history|hourly)_\d{4}_\d{2})/g)].map((m) => m[1] ?? ''),
      ),
    )
    const history = [...touched].filter((t) => t.includes('_history_'))
    expect(history.length).toBeGreaterThan(0)
    const client = new pg.Client({ connectionString: db.replicaUrl })
    await client.connect()
    try {
      const stats = await callOriginal(client, [
        'SELECT relname, reltuples::float8 AS reltuples FROM pg_class WHERE relname = ANY($1)',
        [history],
      ])
      expect(stats.rows.map((r: { relname: string }) => r.relname).sort()).toEqual(history.sort())
      for (const row of stats.rows as { relname: string; reltuples: number }[])
        expect(row.reltuples, row.relname).toBeGreaterThanOrEqual(LARGE_PARTITION_ROWS)
    } finally {
      await client.end()
    }
  })
})
