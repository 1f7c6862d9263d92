// Fleet totals over a window, from the coarsest rollup that is complete for each part of it: whole
// hours from the fleet hour rollups, the partial edge hours by whole minutes from the fleet minute
// rollups (both summed over shards), and what is left of the two partial edge minutes from history by
// time range (BRIN). An edge minute more than half covered is read as its whole minute's rollup less
// the uncovered part, so history is read for at most half a minute at each end. A window on whole
// minutes (the default window is one) reads no history at all.
// Active devices: one row per device from the live tables, plus one index probe per device whose
// newest reading is past the window's end. Nothing reads a row per device-hour.
//
// The answer is one statement: the watermarks and the replica's freshness come with it (stateCteSql),
// so it is one round trip and one snapshot, without a transaction.
import type pg from 'pg'
import { FreshnessUnknown } from '../errors.js'
import { stateCteSql } from './snapshot.js'
import type { Range } from './window.js'

const MINUTE_MS = 60_000
const HOUR_MS = 3_600_000

/** A range split at `unit` boundaries: the aligned inside (null if none) and the unaligned edges. */
export interface AlignedSplit {
  inner: Range | null
  edges: Range[]
}

export function splitAligned({ from, to }: Range, unitMs: number): AlignedSplit {
  const a = new Date(Math.ceil(from.getTime() / unitMs) * unitMs)
  const b = new Date(Math.floor(to.getTime() / unitMs) * unitMs)
  if (!(a.getTime() < b.getTime())) return { inner: null, edges: [{ from, to }] }
  const edges: Range[] = []
  if (from.getTime() < a.getTime()) edges.push({ from, to: a })
  if (b.getTime() < to.getTime()) edges.push({ from: b, to })
  return { inner: { from: a, to: b }, edges }
}

export interface MinutePlan {
  minutes: Range | null
  edges: Range[]
}

/** Whole minutes inside the window, and its partial edge minutes. */
export function planMinutes(window: Range): MinutePlan {
  const { inner, edges } = splitAligned(window, MINUTE_MS)
  return { minutes: inner, edges }
}

/** A part of the window read from history, added (`sign` 1) or taken away (-1). */
export interface HistoryEdge extends Range {
  sign: 1 | -1
}

/**
 * Whole hours, then whole minutes (the partial edge hours', and the edge minutes read as a whole), then
 * what history adds or takes away. Together, counted with their signs, they cover the window exactly.
 */
export interface FleetPlan {
  hours: Range | null
  minutes: Range[]
  edges: HistoryEdge[]
}

export function planFleet(window: Range): FleetPlan {
  const byMinute = planMinutes(window)
  if (byMinute.minutes === null) return { hours: null, minutes: [], edges: byMinute.edges.map(added) }
  const byHour = splitAligned(byMinute.minutes, HOUR_MS)
  const plan: FleetPlan =
    byHour.inner === null
      ? { hours: null, minutes: [byMinute.minutes], edges: [] }
      : { hours: byHour.inner, minutes: byHour.edges, edges: [] }
  // An edge minute is cut by the window at one end; the other end is a minute boundary.
  for (const edge of byMinute.edges) {
    const minuteFrom = Math.floor(edge.from.getTime() / MINUTE_MS) * MINUTE_MS
    const minute = { from: new Date(minuteFrom), to: new Date(minuteFrom + MINUTE_MS) }
    if (edge.to.getTime() - edge.from.getTime() <= MINUTE_MS / 2) {
      plan.edges.push(added(edge))
    } else {
      plan.minutes.push(minute)
      const leftOut =
        edge.from.getTime() > minuteFrom
          ? { from: minute.from, to: edge.from } // the window starts inside this minute
          : { from: edge.to, to: minute.to } // the window ends inside it
      plan.edges.push({ ...leftOut, sign: -1 })
    }
  }
  return plan
}

const added = (r: Range): HistoryEdge => ({ ...r, sign: 1 })

/** Per kind: the sums of the plan's parts, one row per part (the state's CTE is `st`). */
const parts = (k: {
  kind: 'meter' | 'vehicle'
  /** The rollups' columns summed (readings first), and the history columns they are the sums of. */
  rollup: string[]
  history: string[]
}) => {
  const sums = (cols: string[]) => cols.map((c) => `sum(${c})`).join(', ')
  const signed = ['n', ...k.history.map((_, i) => `s${i}`)].map((c) => `e.sign * h.${c}`).join(', ')
  const historySums = k.history.map((c, i) => `sum(${c}) AS s${i}`).join(', ')
  return `
       SELECT ${sums(k.rollup)} FROM ${k.kind}_fleet_hourly WHERE hour >= $1::timestamptz AND hour < $2::timestamptz
       UNION ALL
       SELECT f.* FROM unnest($3::timestamptz[], $4::timestamptz[]) AS r(lo, hi),
         LATERAL (SELECT ${sums(k.rollup)} FROM ${k.kind}_fleet_minutely
                   WHERE minute >= r.lo AND minute < r.hi) f
       UNION ALL
       SELECT ${signed} FROM unnest($5::timestamptz[], $6::timestamptz[], $7::int[]) AS e(lo, hi, sign),
         LATERAL (SELECT count(*) AS n, ${historySums} FROM ${k.kind}_history
                   WHERE ts >= e.lo AND ts < e.hi AND ts >= $10::timestamptz AND ts < $11::timestamptz) h`
}

/** Devices with a reading in [$8, $9): newest reading inside, or past the end with one inside. */
const active = (kind: 'meter' | 'vehicle') => `(
       SELECT count(*) FILTER (WHERE l.ts < $9::timestamptz)
            + count(*) FILTER (WHERE l.ts >= $9::timestamptz AND EXISTS (
                SELECT 1 FROM ${kind}_history h
                 WHERE h.${kind}_id = l.${kind}_id AND h.ts >= $8::timestamptz AND h.ts < $9::timestamptz))
         FROM ${kind}_live l WHERE l.ts >= $8::timestamptz)::int`

/**
 * $1/$2 the whole hours, $3/$4 the whole minutes (arrays of starts and ends), $5/$6/$7 the history
 * edges (starts, ends, signs), $8/$9 the window, $10/$11 the span of the edges: it changes no row, but
 * as a parameter it lets the planner prune every monthly partition the edges do not touch before
 * execution. Named: prepared once per connection.
 */
export const FLEET_SUMMARY = {
  name: 'fleet-summary',
  text: `WITH st AS (${stateCteSql()}),
     m(n, kwh) AS (${parts({ kind: 'meter', rollup: ['readings', 'kwh_consumed_ac_sum'], history: ['kwh_consumed_ac'] })}),
     v(n, kwh, tsum) AS (${parts({
       kind: 'vehicle',
       rollup: ['readings', 'kwh_delivered_dc_sum', 'battery_temp_sum'],
       history: ['kwh_delivered_dc', 'battery_temp'],
     })})
SELECT (extract(epoch FROM st.meter_cb) * 1000)::float8 AS meter_cb,
       (extract(epoch FROM st.vehicle_cb) * 1000)::float8 AS vehicle_cb,
       st.as_of,
       (SELECT COALESCE(sum(n), 0)::text FROM m) AS meter_readings,
       (SELECT COALESCE(sum(kwh), 0)::text FROM m) AS meter_kwh,
       (SELECT COALESCE(sum(n), 0)::text FROM v) AS vehicle_readings,
       (SELECT COALESCE(sum(kwh), 0)::text FROM v) AS vehicle_kwh,
       (SELECT COALESCE(sum(tsum), 0)::text FROM v) AS vehicle_temp_sum,
       ${active('meter')} AS meters_active,
       ${active('vehicle')} AS vehicles_active
  FROM st`,
}

export interface FleetTotals {
  meters: { active: number; readings: number; kwh: string }
  vehicles: { active: number; readings: number; kwh: string; tempSum: string }
  /** The rollup watermarks (ms; Infinity in per-batch mode) and the replica's freshness. */
  closedBefore: { meter: number; vehicle: number }
  asOf: Date
}

interface FleetRow {
  meter_cb: number
  vehicle_cb: number
  as_of: Date | null
  meter_readings: string
  meter_kwh: string
  vehicle_readings: string
  vehicle_kwh: string
  vehicle_temp_sum: string
  meters_active: number
  vehicles_active: number
}

/** The fleet's totals over `window`, in one statement; a 503 when the replica cannot tell its freshness. */
export async function fleetTotals(pool: pg.Pool, window: Range): Promise<FleetTotals> {
  const plan = planFleet(window)
  const none = new Date(0)
  const { rows } = await pool.query<FleetRow>({
    ...FLEET_SUMMARY,
    values: [
      plan.hours?.from ?? none,
      plan.hours?.to ?? none,
      plan.minutes.map((r) => r.from),
      plan.minutes.map((r) => r.to),
      plan.edges.map((e) => e.from),
      plan.edges.map((e) => e.to),
      plan.edges.map((e) => e.sign),
      window.from,
      window.to,
      plan.edges.length > 0 ? new Date(Math.min(...plan.edges.map((e) => e.from.getTime()))) : none,
      plan.edges.length > 0 ? new Date(Math.max(...plan.edges.map((e) => e.to.getTime()))) : none,
    ],
  })
  const r = rows[0]!
  // A replica that has replayed nothing since it started and has no heartbeat row cannot tell.
  if (r.as_of === null) throw new FreshnessUnknown()
  return {
    meters: { active: r.meters_active, readings: Number(r.meter_readings), kwh: r.meter_kwh },
    vehicles: {
      active: r.vehicles_active,
      readings: Number(r.vehicle_readings),
      kwh: r.vehicle_kwh,
      tempSum: r.vehicle_temp_sum,
    },
    closedBefore: { meter: r.meter_cb, vehicle: r.vehicle_cb },
    asOf: r.as_of,
  }
}
