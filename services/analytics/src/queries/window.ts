// Splits an analytics window into the part answered from hourly rollups and the parts answered from
// raw history, following the read contract in packages/db/README.md: whole closed hours come from
// `*_hourly`, the partial first hour and everything from the watermark on come from `*_history`.

export interface Range {
  from: Date
  to: Date
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
