// Exact per-device aggregates over (device, range) pairs, read in the same statement as the rollup
// watermark (packages/db/README.md, the read contract): a closed whole UTC hour comes from `*_hourly`,
// every other instant from `*_history`. The whole hours of the window are cut into runs in advance:
// a run is read from rollups when no bucket boundary falls strictly inside any of its hours (its rows
// then belong to one bucket each), otherwise from history. Per range [f, t) of a device, with
// a = ceil_hour(f) and b = min(floor_hour(t), watermark):
//   rollup runs ∩ [a, b) from `*_hourly`, history runs ∩ [a, b) from `*_history`,
//   [f, min(a, t)) and [max(a, b), t) from `*_history`,
// which covers [f, t) exactly once whether or not a < b. The watermark is read by
// analytics_closed_before() in the statement itself, so the split needs no earlier round trip.
import type { Range } from './window.js'

const HOUR_MS = 3_600_000

/** Runs of whole hours `[ceil_hour(from), floor_hour(to))` of a window, by where they are read. */
export interface HourRuns {
  rollup: Range[]
  history: Range[]
}

/** `boundaries`: bucket starts, ascending (UTC ms); none for a single aggregate over the window. */
export function hourRuns(window: Range, boundaries: number[] = []): HourRuns {
  const runs: HourRuns = { rollup: [], history: [] }
  const a = Math.ceil(window.from.getTime() / HOUR_MS) * HOUR_MS
  const b = Math.floor(window.to.getTime() / HOUR_MS) * HOUR_MS
  let k = 0 // first boundary > h
  let last: { split: boolean; run: Range } | undefined
  for (let h = a; h < b; h += HOUR_MS) {
    while (k < boundaries.length && boundaries[k]! <= h) k++
    const split = k < boundaries.length && boundaries[k]! < h + HOUR_MS
    if (last?.split === split) {
      last.run.to = new Date(h + HOUR_MS)
      continue
    }
    last = { split, run: { from: new Date(h), to: new Date(h + HOUR_MS) } }
    ;(split ? runs.history : runs.rollup).push(last.run)
  }
  return runs
}

/** Parameters of one statement, numbered as they are added. */
export class Params {
  readonly values: unknown[] = []

  add(value: unknown): string {
    this.values.push(value)
    return `$${this.values.length}`
  }
}

export type Kind = 'meter' | 'vehicle'

const FLAGS = `('reset' = ANY (energy_flags))::int AS fr, ('placeholder' = ANY (energy_flags))::int AS fp,
             ('suspect' = ANY (energy_flags))::int AS fs`

/** Column lists of a rollup row and of a history row (same names and types), and their aggregate. */
const COLUMNS: Record<
  Kind,
  { id: string; rollup: string; history: string; aggregate: (x: string) => string }
> = {
  meter: {
    id: 'meter_id',
    rollup: `hour AS t, readings::bigint AS n, kwh_consumed_ac_sum AS kwh, voltage_sum AS vsum,
             voltage_min AS vmin, voltage_max AS vmax, first_ts, last_ts, energy_resets AS fr,
             energy_placeholders AS fp, energy_suspects AS fs`,
    history: `ts AS t, 1::bigint AS n, kwh_consumed_ac AS kwh, voltage AS vsum, voltage AS vmin,
              voltage AS vmax, ts AS first_ts, ts AS last_ts, ${FLAGS}`,
    aggregate: (x) => `COALESCE(sum(n), 0)::int AS ${x}readings, COALESCE(sum(kwh), 0)::text AS ${x}kwh,
       sum(vsum)::text AS ${x}vsum, min(vmin)::text AS ${x}vmin, max(vmax)::text AS ${x}vmax,
       min(first_ts) AS ${x}first_ts, max(last_ts) AS ${x}last_ts, COALESCE(sum(fr), 0)::int AS ${x}resets,
       COALESCE(sum(fp), 0)::int AS ${x}placeholders, COALESCE(sum(fs), 0)::int AS ${x}suspects`,
  },
  vehicle: {
    id: 'vehicle_id',
    rollup: `hour AS t, readings::bigint AS n, kwh_delivered_dc_sum AS kwh, battery_temp_sum AS tsum,
             battery_temp_min AS tmin, battery_temp_max AS tmax, soc_min AS smin, soc_max AS smax,
             first_ts, first_soc, last_ts, last_soc`,
    history: `ts AS t, 1::bigint AS n, kwh_delivered_dc AS kwh, battery_temp AS tsum, battery_temp AS tmin,
              battery_temp AS tmax, soc AS smin, soc AS smax, ts AS first_ts, soc AS first_soc,
              ts AS last_ts, soc AS last_soc`,
    aggregate: (x) => `COALESCE(sum(n), 0)::int AS ${x}readings, COALESCE(sum(kwh), 0)::text AS ${x}kwh,
       sum(tsum)::text AS ${x}tsum, min(tmin)::text AS ${x}tmin, max(tmax)::text AS ${x}tmax,
       min(smin)::text AS ${x}smin, max(smax)::text AS ${x}smax,
       ((array_agg(first_soc ORDER BY first_ts))[1])::text AS ${x}first_soc,
       ((array_agg(last_soc ORDER BY last_ts DESC))[1])::text AS ${x}last_soc,
       min(first_ts) AS ${x}first_ts, max(last_ts) AS ${x}last_ts`,
  },
}

/** The aggregate columns of a kind over `p`, each name prefixed (`v_`, `m_`) to share a row. */
export const aggregateColumns = (kind: Kind, prefix = '') => COLUMNS[kind].aggregate(prefix)

/** Ranges of one device: the relation `r(id, f, t)` that partsSql reads. */
export function oneRange(p: Params, id: string, range: Range): string {
  return `(VALUES (${p.add(id)}::text, ${p.add(range.from)}::timestamptz, ${p.add(range.to)}::timestamptz)) AS r(id, f, t)`
}

/**
 * A subquery of the rows (rollup hours and readings) covering each range of `ranges` (a relation
 * `r(id, f, t)`, every range inside `window`). Each piece is an index range scan of one device; the
 * window's and the run's bounds are parameters too, so partitions are pruned when the statement is
 * planned, while the bounds that depend on the range or the watermark narrow the scan at run time.
 */
export function partsSql(kind: Kind, ranges: string, window: Range, runs: HourRuns, p: Params): string {
  const c = COLUMNS[kind]
  const scan = (table: 'hourly' | 'history', lo: string, hi: string, extra: string) =>
    table === 'hourly'
      ? `SELECT ${c.rollup} FROM ${kind}_hourly
          WHERE ${c.id} = r.id AND hour >= ${lo}::timestamptz AND hour < ${hi}::timestamptz ${extra}`
      : `SELECT ${c.history} FROM ${kind}_history
          WHERE ${c.id} = r.id AND ts >= ${lo}::timestamptz AND ts < ${hi}::timestamptz ${extra}`
  const inAB = (col: string) => `AND ${col} >= x.a AND ${col} < x.b`
  const from = p.add(window.from)
  const to = p.add(window.to)
  const blocks = [
    ...runs.rollup.map((run) => scan('hourly', p.add(run.from), p.add(run.to), inAB('hour'))),
    ...runs.history.map((run) => scan('history', p.add(run.from), p.add(run.to), inAB('ts'))),
    scan('history', from, to, 'AND ts >= r.f AND ts < LEAST(x.a, r.t)'),
    scan('history', from, to, 'AND ts >= GREATEST(x.a, x.b) AND ts < r.t'),
  ]
  return `SELECT parts.* FROM ${ranges}
   CROSS JOIN LATERAL (
     SELECT ${CEIL_HOUR('r.f')} AS a, LEAST(${FLOOR_HOUR('r.t')}, analytics_closed_before('${kind}')) AS b
   ) x
   CROSS JOIN LATERAL (
     ${blocks.join('\n     UNION ALL\n     ')}
   ) parts`
}

const FLOOR_HOUR = (t: string) => `date_bin('1 hour', ${t}, 'epoch'::timestamptz)`
const CEIL_HOUR = (t: string) =>
  `(CASE WHEN ${FLOOR_HOUR(t)} = ${t} THEN ${t} ELSE ${FLOOR_HOUR(t)} + interval '1 hour' END)`

/**
 * The pieces partsSql reads for one range, as the statement computes them (for tests: the statement
 * evaluates the same bounds in SQL with the watermark it reads). Empty pieces are left out.
 */
export function rangePieces(
  range: Range,
  runs: HourRuns,
  closedBefore: number,
): { rollup: Range[]; history: Range[] } {
  const f = range.from.getTime()
  const t = range.to.getTime()
  const a = Math.ceil(f / HOUR_MS) * HOUR_MS
  const b = Math.min(Math.floor(t / HOUR_MS) * HOUR_MS, closedBefore)
  const clip = (lo: number, hi: number): Range[] =>
    lo < hi ? [{ from: new Date(lo), to: new Date(hi) }] : []
  const inAB = (run: Range) => clip(Math.max(run.from.getTime(), a), Math.min(run.to.getTime(), b))
  return {
    rollup: runs.rollup.flatMap(inAB),
    history: [...runs.history.flatMap(inAB), ...clip(f, Math.min(a, t)), ...clip(Math.max(a, b), t)],
  }
}
