// RFC 3339 timestamps with a mandatory zone. Normalised to UTC, keeping up to microseconds
// (PostgreSQL's timestamptz resolution), so a stored reading never differs from what was sent.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/

/** The pattern the JSON schema uses; the semantic checks live in parseTimestamp. */
export const TIMESTAMP_PATTERN =
  '^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})$'

export interface ParsedTimestamp {
  /** Milliseconds since the epoch (sub-millisecond digits are in `iso`). */
  epochMs: number
  /** UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (3 to 6 fraction digits). */
  iso: string
}

/** First instant after the year 9999 (UTC): the four-digit years are all a timestamp may name. */
const END_OF_9999_MS = Date.UTC(10_000, 0, 1)

export type TimestampResult = { ok: true; value: ParsedTimestamp } | { ok: false; reason: string }

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

// validateReading parses each timestamp twice (the schema's date-time format, then the time rules),
// and consecutive readings often share one: remembering the last answer halves the cost of the
// most expensive step of validation (measured in the gateway).
let lastInput: string | undefined
let lastResult: TimestampResult | undefined

/** Parses an RFC 3339 timestamp with a zone offset or Z, and normalises it to UTC. */
export function parseTimestamp(input: string): TimestampResult {
  if (input === lastInput && lastResult !== undefined) return lastResult
  const result = parse(input)
  // Shared between callers from now on, so nobody may change it.
  if (result.ok) Object.freeze(result.value)
  Object.freeze(result)
  lastInput = input
  lastResult = result
  return result
}

function parse(input: string): TimestampResult {
  const m = RFC3339.exec(input)
  if (!m) return { ok: false, reason: 'must be an RFC 3339 date-time with a zone, e.g. 2026-01-31T12:00:00Z' }
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const fraction = m[7] ?? ''
  if (month < 1 || month > 12) return { ok: false, reason: 'month out of range' }
  if (day < 1 || day > daysInMonth(year, month)) return { ok: false, reason: 'day out of range' }
  if (hour > 23 || minute > 59 || second > 59) return { ok: false, reason: 'time of day out of range' }
  let offsetMinutes = 0
  if (!m[8]) {
    const offH = Number(m[10])
    const offM = Number(m[11])
    if (offH > 23 || offM > 59) return { ok: false, reason: 'zone offset out of range' }
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offH * 60 + offM)
  }
  if (/[1-9]/.test(fraction.slice(6))) return { ok: false, reason: 'more precise than a microsecond' }
  const micros = fraction.slice(0, 6).padEnd(6, '0')
  const wholeMs = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000
  // The range is that of the UTC instant, not of the digits: an offset can move either end across it.
  // (Date.UTC also reads years 0-99 as 1900-1999, hence the check of the digits as well.)
  if (year < 1970 || !(wholeMs >= 0)) return { ok: false, reason: 'before 1970 (UTC)' }
  if (wholeMs >= END_OF_9999_MS) return { ok: false, reason: 'after 9999 (UTC)' }
  // Already UTC: the validated digits are the normal form, and toISOString() is the slowest step here.
  const base =
    offsetMinutes === 0
      ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`
      : new Date(wholeMs).toISOString().slice(0, 19)
  const frac = micros.endsWith('000') ? micros.slice(0, 3) : micros
  return { ok: true, value: { epochMs: wholeMs + Number(micros.slice(0, 3)), iso: `${base}.${frac}Z` } }
}

/** Microseconds past `epochMs` (0–999), read from the normal form's fraction. */
function microsPastMs(t: ParsedTimestamp): number {
  const fraction = t.iso.slice(t.iso.lastIndexOf('.') + 1, -1)
  return fraction.length > 3 ? Number(fraction.slice(3)) : 0
}

/** Orders two parsed timestamps to the microsecond: negative, zero or positive. */
export function compareTimestamps(a: ParsedTimestamp, b: ParsedTimestamp): number {
  return a.epochMs - b.epochMs || microsPastMs(a) - microsPastMs(b)
}
