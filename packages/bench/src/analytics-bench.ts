// `analytics`: history loaded straight into PostgreSQL (COPY) at growing sizes (default 10 M, then
// 100 M rows); at each size, p50/p99 of the 24 h performance endpoint and of the efficiency alerts,
// through the analytics service on the streaming replica. The point is that the cost stays flat.
import pg from 'pg'
import { waitForReplica } from '@energy-ingest/localstack'
import type { Args } from './args.js'
import { meterId, prng, vehicleId } from './fleet.js'
import { HttpClient } from './http.js'
import { HistoryLoader } from './history-loader.js'
import type { BenchEnvironment } from './infra.js'
import { progress, type BenchResult } from './report.js'
import { Samples, round, type LatencySummary } from './stats.js'

interface SizeResult {
  rows: number
  loadS: number
  loadRowsPerS: number
  historySpanH: number
  performance: LatencySummary
  alerts: LatencySummary
  /** The summary routes: fleet summary (one per window) and the per-device summaries. */
  fleet: LatencySummary
  meterSummary: LatencySummary
  vehicleSummary: LatencySummary
  errors: number
  /** Vehicles whose performance answer equalled the same aggregate over raw history. */
  verified: string
}

const RAW_AGGREGATE = `
  SELECT (SELECT coalesce(sum(kwh_delivered_dc), 0)::text FROM vehicle_history
           WHERE vehicle_id = $1 AND ts >= $3 AND ts < $4) AS dc,
         (SELECT count(*)::int FROM vehicle_history WHERE vehicle_id = $1 AND ts >= $3 AND ts < $4) AS vn,
         (SELECT coalesce(sum(kwh_consumed_ac), 0)::text FROM meter_history
           WHERE meter_id = $2 AND ts >= $3 AND ts < $4) AS ac,
         (SELECT count(*)::int FROM meter_history WHERE meter_id = $2 AND ts >= $3 AND ts < $4) AS mn`

interface PerformanceAnswer {
  windowStart: string
  windowEnd: string
  meterIds: string[]
  totalAcConsumed: number
  totalDcDelivered: number
  readings: { vehicle: number; meter: number }
}

/**
 * The loaded rollups are only worth measuring if they are right: for a few vehicles, the endpoint's
 * totals must equal the same sums over raw history (on the replica, for the window it answered).
 */
async function verify(http: HttpClient, replicaUrl: string, vehicles: number[]): Promise<string[]> {
  const problems: string[] = []
  const db = new pg.Client({ connectionString: replicaUrl })
  await db.connect()
  try {
    for (const d of vehicles) {
      const res = await http.get(`/v1/analytics/performance/${vehicleId(d)}`)
      if (res.status !== 200) {
        problems.push(`${vehicleId(d)}: ${res.status}`)
        continue
      }
      const a = JSON.parse(res.body) as PerformanceAnswer
      const { rows } = await db.query<{ dc: string; vn: number; ac: string; mn: number }>(RAW_AGGREGATE, [
        vehicleId(d),
        meterId(d),
        a.windowStart,
        a.windowEnd,
      ])
      const raw = rows[0]!
      const same = (x: number, y: string) => Math.abs(x - Number(y)) <= 1e-9 * Math.max(1, Math.abs(x))
      if (
        !same(a.totalDcDelivered, raw.dc) ||
        !same(a.totalAcConsumed, raw.ac) ||
        a.readings.vehicle !== raw.vn ||
        a.readings.meter !== raw.mn ||
        a.meterIds.join() !== meterId(d)
      ) {
        problems.push(`${vehicleId(d)}: answer ${JSON.stringify(a)} vs raw ${JSON.stringify(raw)}`)
      }
    }
  } finally {
    await db.end()
  }
  return problems
}

async function measure(
  http: HttpClient,
  paths: () => string,
  count: number,
  warmup: number,
  concurrency: number,
): Promise<{ latency: LatencySummary; errors: number }> {
  const samples = new Samples()
  let errors = 0
  let firstError: string | undefined
  const one = async (record: boolean) => {
    const res = await http.get(paths())
    if (res.status !== 200) {
      errors++
      firstError ??= `${res.status} ${res.body.slice(0, 300)}`
    } else if (record) {
      samples.add(res.ms)
    }
  }
  for (let i = 0; i < warmup; i++) await one(false)
  let issued = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued++ < count) await one(true)
    }),
  )
  if (firstError) progress(`  ${errors} failed requests, first: ${firstError}`)
  return { latency: samples.summary(), errors }
}

export async function analyticsBench(args: Args, env: BenchEnvironment): Promise<BenchResult> {
  if (args.bool('stack')) {
    throw new Error(
      'analytics loads tens of millions of rows: it runs on its own PostgreSQL only (no --stack)',
    )
  }
  const sizes = args.counts('sizes', [10_000_000, 100_000_000]).sort((a, b) => a - b)
  const vehicles = args.num('vehicles', 10_000, 1)
  const meters = args.num('meters', 10_000, 1)
  // 180 s: 10 M rows over 20,000 devices (500 readings each) still span 25 h, a full 24 h window.
  const intervalS = args.num('interval', 180, 1)
  const requests = args.num('requests', 1000, 1)
  const alertRequests = args.num('alert-requests', 100, 1)
  const concurrency = args.num('concurrency', 1, 1)
  const chunkRows = args.num('chunk-rows', 200_000, 1)
  const vacuum = !args.bool('no-vacuum')

  await env.startPostgres({ durable: args.bool('durable') })
  const analyticsUrl = await env.startAnalytics()
  const http = new HttpClient(analyticsUrl, { authorization: `Bearer ${env.analyticsKey}` }, concurrency)
  const devices = vehicles + meters
  const maxRounds = Math.ceil(sizes[sizes.length - 1]! / devices)
  const now = Date.now()
  const loader = new HistoryLoader(env.primaryUrl, {
    vehicles,
    meters,
    intervalS,
    newestMs: Math.floor(now / (intervalS * 1000)) * intervalS * 1000 - intervalS * 1000,
    maxRounds,
  })
  const results: SizeResult[] = []
  try {
    await loader.prepare()
    const rand = prng(7)
    for (const size of sizes) {
      progress(
        `loading history to ${size.toLocaleString('en-US')} rows (${vehicles} vehicles + ${meters} meters, every ${intervalS} s)…`,
      )
      const before = loader.rounds * devices
      const { loadMs, rows } = await loader.loadTo(size, { chunkRows, vacuum })
      progress('  waiting for the replica to replay it…')
      await waitForReplica(env.primaryUrl, env.replicaUrl, 30 * 60_000)
      progress(
        `  ${rows.toLocaleString('en-US')} rows; measuring performance (${requests} requests) and alerts (${alertRequests})…`,
      )
      const perf = await measure(
        http,
        () => `/v1/analytics/performance/${vehicleId(Math.floor(rand() * vehicles))}`,
        requests,
        Math.min(100, requests),
        concurrency,
      )
      const alerts = await measure(
        http,
        () => '/v1/analytics/efficiency/alerts?below=0.85',
        alertRequests,
        Math.min(10, alertRequests),
        concurrency,
      )
      const fleet = await measure(
        http,
        () => '/v1/analytics/fleet/summary',
        alertRequests,
        Math.min(10, alertRequests),
        concurrency,
      )
      const meterSummary = await measure(
        http,
        () => `/v1/analytics/meters/${meterId(Math.floor(rand() * meters))}`,
        requests,
        Math.min(100, requests),
        concurrency,
      )
      const vehicleSummary = await measure(
        http,
        () => `/v1/analytics/vehicles/${vehicleId(Math.floor(rand() * vehicles))}`,
        requests,
        Math.min(100, requests),
        concurrency,
      )
      const sample = Array.from({ length: Math.min(vehicles, meters, 5) }, () =>
        Math.floor(rand() * Math.min(vehicles, meters)),
      )
      const problems = await verify(http, env.replicaUrl, sample)
      for (const p of problems) progress(`  MISMATCH ${p}`)
      const result: SizeResult = {
        rows,
        loadS: round(loadMs / 1000, 1),
        loadRowsPerS: Math.round((rows - before) / (loadMs / 1000)),
        historySpanH: round((rows / devices) * (intervalS / 3600), 1),
        performance: perf.latency,
        alerts: alerts.latency,
        fleet: fleet.latency,
        meterSummary: meterSummary.latency,
        vehicleSummary: vehicleSummary.latency,
        errors: perf.errors + alerts.errors + fleet.errors + meterSummary.errors + vehicleSummary.errors,
        verified: `${sample.length - problems.length}/${sample.length}`,
      }
      results.push(result)
      progress(
        `  performance p50 ${perf.latency.p50} ms p99 ${perf.latency.p99} ms; alerts p50 ${alerts.latency.p50} ms p99 ${alerts.latency.p99} ms; ` +
          `fleet p50 ${fleet.latency.p50} ms p99 ${fleet.latency.p99} ms`,
      )
    }
  } finally {
    http.close()
    await loader.close()
  }
  const first = results[0]
  const last = results[results.length - 1]
  const growth =
    first && last && results.length > 1 ? round(last.performance.p99 / first.performance.p99, 2) : null
  return {
    bench: 'analytics',
    params: {
      sizes,
      vehicles,
      meters,
      intervalS,
      requests,
      alertRequests,
      concurrency,
      vacuum,
      durable: args.bool('durable'),
    },
    figures: { results, performanceP99GrowthLargestVsSmallest: growth },
    tables: [
      {
        title: `analytics on the replica: ${vehicles} vehicles + ${meters} meters, a reading every ${intervalS} s, concurrency ${concurrency}`,
        columns: [
          'history rows',
          'span h',
          'load s',
          'load rows/s',
          'perf p50 ms',
          'perf p99 ms',
          'alerts p50 ms',
          'alerts p99 ms',
          'fleet p50 ms',
          'fleet p99 ms',
          'meter p50/p99 ms',
          'vehicle p50/p99 ms',
          'errors',
          'exact',
        ],
        rows: results.map((r) => [
          r.rows,
          r.historySpanH,
          r.loadS,
          r.loadRowsPerS,
          r.performance.p50,
          r.performance.p99,
          r.alerts.p50,
          r.alerts.p99,
          r.fleet.p50,
          r.fleet.p99,
          `${r.meterSummary.p50} / ${r.meterSummary.p99}`,
          `${r.vehicleSummary.p50} / ${r.vehicleSummary.p99}`,
          r.errors,
          r.verified,
        ]),
      },
    ],
    notes: [
      `performance p99 at the largest size / at the smallest: ${growth ?? '-'} (target ≤ 1.5, and p99 < 5 ms at 100 M rows)`,
      'exact: sampled vehicles whose answer equals the same sums over raw history (window of the answer)',
      'latency measured by the bench client over loopback HTTP (includes Fastify, auth, JSON, the pg round trips)',
    ],
  }
}
