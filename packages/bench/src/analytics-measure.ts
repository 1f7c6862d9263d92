// What the analytics bench measures at each size: the routes' latency next to a bare route of the same
// service (`/v1/ping`: auth, one trivial query on the same pool, serialisation), the exactness check of
// sampled answers, and a large export.
import pg from 'pg'
import { meterId, vehicleId } from './fleet.js'
import type { HttpClient } from './http.js'
import { progress } from './report.js'
import { Samples, round, type LatencySummary } from './stats.js'

/** One measured route: a path per request (random devices), and how many requests. */
export interface RouteSpec {
  name: string
  path: () => string
  requests: number
}

export interface RouteResult {
  name: string
  latency: LatencySummary
  /** p50 and p99 over those of the bare route in the same run. */
  p50Ratio: number
  p99Ratio: number
  errors: number
}

export interface ExportResult {
  encoding: 'identity' | 'gzip'
  rows: number
  mb: number
  s: number
  rowsPerS: number
}

/** Sequential requests after a warm-up (concurrency 1 = latency without queueing). */
export async function measure(
  http: HttpClient,
  path: () => string,
  count: number,
  concurrency: number,
): Promise<{ latency: LatencySummary; errors: number }> {
  const samples = new Samples()
  let errors = 0
  let firstError: string | undefined
  const one = async (record: boolean) => {
    const res = await http.get(path())
    if (res.status !== 200) {
      errors++
      firstError ??= `${res.status} ${res.body.slice(0, 300)}`
    } else if (record) {
      samples.add(res.ms)
    }
  }
  const warmup = Math.min(100, Math.ceil(count / 10))
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

/** The bare route first, then each route; ratios are to the bare route's figures of this run. */
export async function measureRoutes(
  http: HttpClient,
  routes: RouteSpec[],
  baselineRequests: number,
  concurrency: number,
): Promise<{ baseline: LatencySummary; routes: RouteResult[] }> {
  const base = await measure(http, () => '/v1/ping', baselineRequests, concurrency)
  if (base.errors > 0) throw new Error('the bare route /v1/ping failed: no baseline to compare with')
  progress(`  bare route p50 ${base.latency.p50} ms p99 ${base.latency.p99} ms`)
  const out: RouteResult[] = []
  for (const r of routes) {
    const m = await measure(http, r.path, r.requests, concurrency)
    out.push({
      name: r.name,
      latency: m.latency,
      p50Ratio: round(m.latency.p50 / base.latency.p50, 2),
      p99Ratio: round(m.latency.p99 / base.latency.p99, 2),
      errors: m.errors,
    })
    progress(
      `  ${r.name} p50 ${m.latency.p50} ms p99 ${m.latency.p99} ms (p99 ${out.at(-1)!.p99Ratio}× bare)`,
    )
  }
  return { baseline: base.latency, routes: out }
}

/** `/v1/export/readings` of one window as CSV, plain then gzip'd; the body is counted, not kept. */
export async function measureExport(
  http: HttpClient,
  window: { from: Date; to: Date },
): Promise<ExportResult[]> {
  const path = `/v1/export/readings?kind=vehicle&from=${window.from.toISOString()}&to=${window.to.toISOString()}`
  const out: ExportResult[] = []
  let rows = 0
  for (const encoding of ['identity', 'gzip'] as const) {
    const d = await http.download(path, { 'accept-encoding': encoding })
    if (d.status !== 200) throw new Error(`export (${encoding}): ${d.status}`)
    if ((d.encoding ?? 'identity') !== encoding)
      throw new Error(`export: asked for ${encoding}, got ${d.encoding}`)
    // The gzip'd body's rows are those of the same window counted in the plain run (one header line).
    if (encoding === 'identity') rows = d.lines - 1
    out.push({
      encoding,
      rows,
      mb: round(d.bytes / 1e6, 1),
      s: round(d.ms / 1000, 2),
      rowsPerS: Math.round(rows / (d.ms / 1000)),
    })
  }
  return out
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
export async function verify(http: HttpClient, replicaUrl: string, vehicles: number[]): Promise<string[]> {
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
