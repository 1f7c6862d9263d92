// `analytics`: history loaded straight into PostgreSQL (COPY) at growing sizes (default 10 M, then
// 100 M rows); at each size, p50/p99 of the analytics routes through the service on the streaming
// replica, each next to a bare route of the same service measured in the same run, and a large export.
// The point is that the cost stays flat, and close to the bare route's.
import { waitForReplica } from '@energy-ingest/localstack'
import type { Args } from './args.js'
import {
  measureExport,
  measureRoutes,
  verify,
  type ExportResult,
  type RouteResult,
  type RouteSpec,
} from './analytics-measure.js'
import { meterId, prng, vehicleId } from './fleet.js'
import { HttpClient } from './http.js'
import { HistoryLoader } from './history-loader.js'
import type { BenchEnvironment } from './infra.js'
import { progress, type BenchResult, type Table } from './report.js'
import { round, type LatencySummary } from './stats.js'

interface SizeResult {
  rows: number
  loadS: number
  loadRowsPerS: number
  historySpanH: number
  /** `GET /v1/ping`: auth, `SELECT 1` on the request pool, serialisation. */
  baseline: LatencySummary
  routes: RouteResult[]
  exports: ExportResult[]
  errors: number
  /** Vehicles whose performance answer equalled the same aggregate over raw history. */
  verified: string
}

const DAY_MS = 86_400_000

/** The 24 h before `nowMs`, to the millisecond. */
function toTheMillisecond(nowMs: number): string {
  return `from=${new Date(nowMs - DAY_MS).toISOString()}&to=${new Date(nowMs).toISOString()}`
}

/** The routes measured at each size, random devices; `endMs` ends the fixed 7-day series window. */
function routeSpecs(a: {
  vehicles: number
  meters: number
  requests: number
  fleetRequests: number
  endMs: number
}): RouteSpec[] {
  const rand = prng(7)
  const v = () => vehicleId(Math.floor(rand() * a.vehicles))
  const m = () => meterId(Math.floor(rand() * a.meters))
  const week = `from=${new Date(a.endMs - 7 * DAY_MS).toISOString()}&to=${new Date(a.endMs).toISOString()}`
  return [
    { name: 'performance 24 h', path: () => `/v1/analytics/performance/${v()}`, requests: a.requests },
    { name: 'meter summary 24 h', path: () => `/v1/analytics/meters/${m()}`, requests: a.requests },
    { name: 'vehicle summary 24 h', path: () => `/v1/analytics/vehicles/${v()}`, requests: a.requests },
    {
      name: 'vehicle series 24 h hourly',
      path: () => `/v1/analytics/vehicles/${v()}/series?bucket=hour`,
      requests: a.requests,
    },
    {
      name: 'vehicle series 7 d daily',
      path: () => `/v1/analytics/vehicles/${v()}/series?bucket=day&${week}`,
      requests: a.requests,
    },
    {
      name: 'fleet series 24 h hourly',
      path: () => '/v1/analytics/fleet/series?bucket=hour',
      requests: a.fleetRequests,
    },
    // The default window: whole minutes (it ends at the end of the current minute), rollups only.
    { name: 'fleet summary 24 h', path: () => '/v1/analytics/fleet/summary', requests: a.fleetRequests },
    {
      // Ends to the millisecond: at most half a minute of history at each end.
      name: 'fleet summary 24 h, ends to the ms',
      path: () => `/v1/analytics/fleet/summary?${toTheMillisecond(Date.now())}`,
      requests: a.fleetRequests,
    },
    {
      name: 'efficiency alerts',
      path: () => '/v1/analytics/efficiency/alerts?below=0.85',
      requests: a.fleetRequests,
    },
  ]
}

interface AnalyticsParams {
  sizes: number[]
  vehicles: number
  meters: number
  intervalS: number
  requests: number
  fleetRequests: number
  exportRows: number
  concurrency: number
  chunkRows: number
  vacuum: boolean
}

function analyticsParams(args: Args): AnalyticsParams {
  return {
    sizes: args.counts('sizes', [10_000_000, 100_000_000]).sort((a, b) => a - b),
    vehicles: args.num('vehicles', 10_000, 1),
    meters: args.num('meters', 10_000, 1),
    // 180 s: 10 M rows over 20,000 devices (500 readings each) still span 25 h, a full 24 h window.
    intervalS: args.num('interval', 180, 1),
    requests: args.num('requests', 1000, 1),
    fleetRequests: args.num('alert-requests', 100, 1),
    exportRows: args.num('export-rows', 1_000_000, 0),
    concurrency: args.num('concurrency', 1, 1),
    chunkRows: args.num('chunk-rows', 200_000, 1),
    vacuum: !args.bool('no-vacuum'),
  }
}

/** What every size's round uses: the service's client, the loader, the routes and the export window. */
interface SizeContext {
  p: AnalyticsParams
  env: BenchEnvironment
  http: HttpClient
  loader: HistoryLoader
  routes: RouteSpec[]
  exportWindow: { from: Date; to: Date }
  rand: () => number
}

/** Loads the history up to `size` rows, waits for the replica, then measures the routes and the export. */
async function measureSize(c: SizeContext, size: number): Promise<SizeResult> {
  const { p, env, http, loader } = c
  const devices = p.vehicles + p.meters
  progress(
    `loading history to ${size.toLocaleString('en-US')} rows (${p.vehicles} vehicles + ${p.meters} meters, every ${p.intervalS} s)…`,
  )
  const before = loader.rounds * devices
  const { loadMs, rows } = await loader.loadTo(size, { chunkRows: p.chunkRows, vacuum: p.vacuum })
  progress('  waiting for the replica to replay it…')
  await waitForReplica(env.primaryUrl, env.replicaUrl, 30 * 60_000)
  progress(`  ${rows.toLocaleString('en-US')} rows; measuring the bare route, then each route…`)
  const measured = await measureRoutes(http, c.routes, p.requests, p.concurrency)
  const exports = p.exportRows > 0 ? await measureExport(http, c.exportWindow) : []
  for (const e of exports)
    progress(`  export (${e.encoding}) ${e.rows} rows in ${e.s} s: ${e.rowsPerS} rows/s`)
  const sample = Array.from({ length: Math.min(p.vehicles, p.meters, 5) }, () =>
    Math.floor(c.rand() * Math.min(p.vehicles, p.meters)),
  )
  const problems = await verify(http, env.replicaUrl, sample)
  for (const problem of problems) progress(`  MISMATCH ${problem}`)
  return {
    rows,
    loadS: round(loadMs / 1000, 1),
    loadRowsPerS: Math.round((rows - before) / (loadMs / 1000)),
    historySpanH: round((rows / devices) * (p.intervalS / 3600), 1),
    baseline: measured.baseline,
    routes: measured.routes,
    exports,
    errors: measured.routes.reduce((s, r) => s + r.errors, 0),
    verified: `${sample.length - problems.length}/${sample.length}`,
  }
}

function analyticsReport(p: AnalyticsParams, durable: boolean, results: SizeResult[]): BenchResult {
  const perfP99 = (r: SizeResult | undefined) =>
    r?.routes.find((x) => x.name === 'performance 24 h')?.latency.p99
  const firstP99 = perfP99(results[0])
  const lastP99 = perfP99(results[results.length - 1])
  const growth =
    results.length > 1 && firstP99 !== undefined && lastP99 !== undefined
      ? round(lastP99 / firstP99, 2)
      : null
  const { sizes, vehicles, meters, intervalS, requests, fleetRequests, exportRows, concurrency, vacuum } = p
  return {
    bench: 'analytics',
    params: {
      sizes,
      vehicles,
      meters,
      intervalS,
      requests,
      fleetRequests,
      exportRows,
      concurrency,
      vacuum,
      durable,
    },
    figures: { results, performanceP99GrowthLargestVsSmallest: growth },
    tables: tables(results, { vehicles, meters, intervalS, concurrency }),
    notes: [
      `performance p99 at the largest size / at the smallest: ${growth ?? '-'} (target ≤ 1.5)`,
      '× bare: the route’s p50 (p99) over the p50 (p99) of GET /v1/ping (auth, SELECT 1 on the same pool) in the same run; target: performance p99 ≤ 2× bare',
      'exact: sampled vehicles whose answer equals the same sums over raw history (window of the answer)',
      'latency measured by the bench client over loopback HTTP (includes Fastify, auth, JSON, the pg round trips)',
    ],
  }
}

export async function analyticsBench(args: Args, env: BenchEnvironment): Promise<BenchResult> {
  if (args.bool('stack')) {
    throw new Error(
      'analytics loads tens of millions of rows: it runs on its own PostgreSQL only (no --stack)',
    )
  }
  const p = analyticsParams(args)
  const { sizes, vehicles, meters, intervalS } = p

  await env.startPostgres({ durable: args.bool('durable') })
  const analyticsUrl = await env.startAnalytics()
  const http = new HttpClient(analyticsUrl, { authorization: `Bearer ${env.analyticsKey}` }, p.concurrency)
  const maxRounds = Math.ceil(sizes[sizes.length - 1]! / (vehicles + meters))
  const intervalMs = intervalS * 1000
  const newestMs = Math.floor(Date.now() / intervalMs) * intervalMs - intervalMs
  const loader = new HistoryLoader(env.primaryUrl, { vehicles, meters, intervalS, newestMs, maxRounds })
  // Round r holds one reading per vehicle in [newest - r × interval, + interval): this window holds
  // `exportRows` vehicle readings once that many rounds are loaded.
  const exportEnd = newestMs + intervalMs
  const exportWindow = {
    from: new Date(exportEnd - Math.ceil(p.exportRows / vehicles) * intervalMs),
    to: new Date(exportEnd),
  }
  const routes = routeSpecs({ ...p, endMs: exportEnd })
  const results: SizeResult[] = []
  try {
    await loader.prepare()
    const context: SizeContext = { p, env, http, loader, routes, exportWindow, rand: prng(11) }
    for (const size of sizes) results.push(await measureSize(context, size))
  } finally {
    http.close()
    await loader.close()
  }
  return analyticsReport(p, args.bool('durable'), results)
}

function tables(
  results: SizeResult[],
  s: { vehicles: number; meters: number; intervalS: number; concurrency: number },
): Table[] {
  return [
    {
      title: `analytics on the replica: ${s.vehicles} vehicles + ${s.meters} meters, a reading every ${s.intervalS} s, concurrency ${s.concurrency}`,
      columns: ['history rows', 'route', 'p50 ms', 'p99 ms', 'p50 × bare', 'p99 × bare', 'errors'],
      rows: results.flatMap((r) => [
        [r.rows, 'bare route (GET /v1/ping)', r.baseline.p50, r.baseline.p99, 1, 1, 0],
        ...r.routes.map((x) => [
          r.rows,
          x.name,
          x.latency.p50,
          x.latency.p99,
          x.p50Ratio,
          x.p99Ratio,
          x.errors,
        ]),
      ]),
    },
    {
      title: 'loading, exactness and export (vehicle readings, CSV)',
      columns: [
        'history rows',
        'span h',
        'load s',
        'load rows/s',
        'exact',
        'export',
        'rows',
        'MB',
        's',
        'rows/s',
      ],
      rows: results.flatMap((r) =>
        (r.exports.length > 0 ? r.exports : [undefined]).map((e) => [
          r.rows,
          r.historySpanH,
          r.loadS,
          r.loadRowsPerS,
          r.verified,
          e?.encoding,
          e?.rows,
          e?.mb,
          e?.s,
          e?.rowsPerS,
        ]),
      ),
    },
  ]
}
