// Splits an analytics window into the part answered from hourly rollups and the parts answered from
// raw history, following the read contract in packages/db/README.md: whole closed hours come from
// `*_hourly`, the partial first hour and everything from the watermark on come from `*_history`.

export interface Range {
  from: Date
  to: Date
}

/** One device's range of a window, e.g. a meter over the part of a window it served a vehicle. */
export interface DeviceRange {
  deviceId: string
  range: Range
}

export interface WindowPlan {
  /** Whole hours `[a, b)` read from rollups, or null when there are none. */
  rollup: Range | null
  /** Disjoint history ranges; together with `rollup` they cover the window exactly. */
  history: Range[]
}

const HOUR_MS = 3_600_000

export function floorHour(d: Date): Date {
  return new Date(Math.floor(d.getTime() / HOUR_MS) * HOUR_MS)
}

export function ceilHour(d: Date): Date {
  return new Date(Math.ceil(d.getTime() / HOUR_MS) * HOUR_MS)
}

/** `closedBefore` = the watermark W (an hour start, or +Infinity in per-batch mode). */
export function planWindow(window: Range, closedBefore: Date | number): WindowPlan {
  const { from, to } = window
  if (!(from.getTime() < to.getTime())) return { rollup: null, history: [] }
  const w = typeof closedBefore === 'number' ? closedBefore : closedBefore.getTime()
  const a = ceilHour(from)
  const b = new Date(Math.min(floorHour(to).getTime(), w))
  if (!(a.getTime() < b.getTime())) return { rollup: null, history: [{ from, to }] }
  const history: Range[] = []
  if (from.getTime() < a.getTime()) history.push({ from, to: a })
  if (b.getTime() < to.getTime()) history.push({ from: b, to })
  return { rollup: { from: a, to: b }, history }
}

/** Parameters of one device's parts: rollup range and two history ranges; empty ones are [0, 0). */
export function planParams(plan: WindowPlan): [Date, Date, Date, Date, Date, Date] {
  const empty = new Date(0)
  const r = plan.rollup
  const [h1, h2] = plan.history
  return [
    r?.from ?? empty,
    r?.to ?? empty,
    h1?.from ?? empty,
    h1?.to ?? empty,
    h2?.from ?? empty,
    h2?.to ?? empty,
  ]
}

/**
 * planWindow in SQL, for a statement that reads the watermark itself: one row of the window's parts,
 * `rf, rt` (rollup hours), `h1f, h1t` and `h2f, h2t` (history), empty ones as `[epoch, epoch)` as in
 * planParams. `from`, `to` and `closedBefore` are timestamptz expressions ('infinity' in per-batch
 * mode). Hours are UTC hours (date_bin from the epoch), whatever the session's time zone.
 */
export function planSql(from: string, to: string, closedBefore: string): string {
  return `SELECT CASE WHEN split THEN a ELSE 'epoch' END AS rf, CASE WHEN split THEN b ELSE 'epoch' END AS rt,
         f AS h1f, CASE WHEN split THEN a ELSE t END AS h1t,
         CASE WHEN split THEN b ELSE 'epoch' END AS h2f, CASE WHEN split THEN t ELSE 'epoch' END AS h2t
    FROM (SELECT f, t, a, b, f < t AND a < b AS split
            FROM (SELECT f, t,
                         CASE WHEN date_bin('1 hour', f, 'epoch') = f THEN f
                              ELSE date_bin('1 hour', f, 'epoch') + interval '1 hour' END AS a,
                         LEAST(date_bin('1 hour', t, 'epoch'), cb) AS b
                    FROM (SELECT (${from})::timestamptz AS f, (${to})::timestamptz AS t,
                                 (${closedBefore})::timestamptz AS cb) w) x) y`
}
