// Calendar buckets of a time series in an IANA time zone: 15 minutes, hours or days of the zone's
// local clock, as UTC instants. Offsets come from the runtime's time-zone data (Intl); the integration
// tests compare the buckets with PostgreSQL's own (date_trunc(..., tz) / AT TIME ZONE) across DST.
//
// A bucket boundary is an instant at which a new bucket starts:
// - `15m` / `hour`: the local clock reads a whole quarter / hour (so the repeated hour of a fall-back
//   transition is a bucket of its own, and every bucket lasts 15 min / 1 h in zones whose offsets are
//   whole quarter-hours), or a transition jumps the clock forward past such a mark;
// - `day`: the first instant of a local date (local midnight; the transition instant when a zone skips
//   midnight). A day lasts 23 or 25 hours across a DST change.

export type BucketUnit = '15m' | 'hour' | 'day'

export const BUCKET_UNITS: readonly BucketUnit[] = ['15m', 'hour', 'day']

const MINUTE = 60_000
const HOUR = 3_600_000
const DAY = 86_400_000
const UNIT_MS: Record<BucketUnit, number> = { '15m': 15 * MINUTE, hour: HOUR, day: DAY }
/** Offsets are sampled this far apart; two transitions never come closer than this in tzdata. */
const SAMPLE_MS = 6 * HOUR

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    })
    formatters.set(tz, f)
  }
  return f
}

/**
 * The zone's name if the runtime knows it as an IANA time zone, else undefined. A name that differs
 * only in case is given ICU's spelling (`europe/berlin` -> `Europe/Berlin`); an alias keeps the name
 * asked for (ICU would turn `Asia/Kolkata` into its legacy `Asia/Calcutta`). Offsets such as `+02:00`
 * and abbreviations such as `CET` are refused: a zone name carries its DST rules, an offset does not.
 */
export function canonicalTimeZone(tz: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(tz) || tz.length > 64) return undefined
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone
    if (name !== 'UTC' && !name.includes('/')) return undefined
    return name.toLowerCase() === tz.toLowerCase() ? name : tz
  } catch {
    return undefined
  }
}

/** The zone's UTC offset at instant `t`, in ms (local = t + offset). Whole seconds. */
export function offsetAt(tz: string, t: number): number {
  const seconds = Math.floor(t / 1000) * 1000
  const parts: Record<string, string> = {}
  for (const p of formatter(tz).formatToParts(new Date(seconds))) parts[p.type] = p.value
  let year = Number(parts.year)
  if (parts.era === 'BC' || parts.era === 'B') year = 1 - year
  const local = Date.UTC(
    year,
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  )
  // Date.UTC maps years 0-99 to 1900-1999.
  const fixed = year >= 0 && year < 100 ? new Date(local).setUTCFullYear(year) : local
  return fixed - seconds
}

interface Segment {
  /** First instant of the segment (ms). */
  start: number
  /** Offset in force from `start` until the next segment's start. */
  offset: number
}

/**
 * Constant-offset segments covering [lo, hi]: the first starts at lo, each other one at a transition
 * (the first whole second with the new offset).
 */
export function offsetSegments(tz: string, lo: number, hi: number): Segment[] {
  const segments: Segment[] = [{ start: lo, offset: offsetAt(tz, lo) }]
  let t0 = lo
  let off0 = segments[0]!.offset
  while (t0 < hi) {
    const t1 = Math.min(t0 + SAMPLE_MS, hi)
    if (offsetAt(tz, t1) === off0) {
      t0 = t1
      continue
    }
    // A transition in (t0, t1]: binary search on whole seconds, offset(a) = off0 != offset(b).
    let a = Math.floor(t0 / 1000)
    let b = Math.floor(t1 / 1000)
    while (b - a > 1) {
      const m = Math.floor((a + b) / 2)
      if (offsetAt(tz, m * 1000) === off0) a = m
      else b = m
    }
    t0 = b * 1000
    off0 = offsetAt(tz, t0)
    segments.push({ start: t0, offset: off0 })
  }
  return segments
}

const floorDiv = (a: number, b: number) => Math.floor(a / b)

/**
 * Bucket boundaries b with lo <= b < hi, ascending (UTC ms), in zone `tz`.
 */
export function boundariesIn(
  tz: string,
  unit: BucketUnit,
  lo: number,
  hi: number,
  segments: Segment[] = offsetSegments(tz, lo, hi),
): number[] {
  const u = UNIT_MS[unit]
  const out: number[] = []
  for (let i = 0; i < segments.length; i++) {
    const { start, offset } = segments[i]!
    const end = i + 1 < segments.length ? segments[i + 1]!.start : hi
    let first = Math.ceil((start + offset) / u) * u - offset
    if (i > 0) {
      // The transition instant itself: a boundary when the clock jumps past a mark (or, for 15m/hour,
      // lands on one, as a fall-back to a whole hour does).
      const before = segments[i - 1]!.offset
      const jumped = floorDiv(start + offset, u) > floorDiv(start - 1 + before, u)
      const onMark = unit !== 'day' && (start + offset) % u === 0
      if (jumped || onMark) out.push(start)
      if (first === start) first += u
    }
    for (let t = first; t < end; t += u) if (t >= lo) out.push(t)
  }
  return out.filter((t) => t >= lo && t < hi)
}

export interface Bucket {
  /** Bucket start (UTC ms): a boundary, possibly before the window's start. */
  start: number
  /** Bucket end (UTC ms, exclusive): the next boundary, possibly after the window's end. */
  end: number
}

/** Thrown for a zone whose offset in the window is not a whole number of minutes (local mean time). */
export class UnsupportedOffset extends Error {}

/** The buckets that meet [from, to): the first contains `from`, the last contains `to - 1 ms`. */
export function bucketsOf(tz: string, unit: BucketUnit, from: number, to: number): Bucket[] {
  // Look back far enough to find the boundary at or before `from`, and ahead for the last bucket's end.
  const margin = unit === 'day' ? 3 * DAY : 3 * HOUR
  const lo = from - margin
  const hi = to + margin
  const segments = offsetSegments(tz, lo, hi)
  for (const s of segments) {
    if (s.offset % MINUTE !== 0) {
      throw new UnsupportedOffset(
        `${tz} has an offset of ${s.offset / 1000} s at ${new Date(s.start).toISOString()}`,
      )
    }
  }
  const all = boundariesIn(tz, unit, lo, hi, segments)
  const odd = all.find((b) => b % MINUTE !== 0)
  if (odd !== undefined) {
    throw new UnsupportedOffset(
      `${tz} changes its offset at ${new Date(odd).toISOString()}, not on a whole minute`,
    )
  }
  let i = 0
  while (i + 1 < all.length && all[i + 1]! <= from) i++
  const buckets: Bucket[] = []
  for (; i + 1 < all.length && all[i]! < to; i++) buckets.push({ start: all[i]!, end: all[i + 1]! })
  return buckets
}

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0')

/** RFC 3339 local time with the zone's offset at `t`, e.g. 2026-03-29T03:00:00+02:00. */
export function formatLocal(tz: string, t: number): string {
  const offset = offsetAt(tz, t)
  const local = new Date(t + offset)
  const ms = local.getUTCMilliseconds()
  const sign = offset < 0 ? '-' : '+'
  const offMin = Math.abs(offset) / MINUTE
  return (
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
    (ms > 0 ? `.${pad(ms, 3)}` : '') +
    `${sign}${pad(Math.floor(offMin / 60))}:${pad(Math.floor(offMin % 60))}`
  )
}
