// PostgreSQL COPY text format: tab-separated fields, newline-terminated rows, \N for NULL.

const SPECIAL = /[\\\t\n\r]/
const SPECIAL_GLOBAL = /[\\\t\n\r]/g
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/** One field in COPY text format. Device ids, decimals and ISO timestamps never need escaping. */
export function copyField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '\\N'
  const s = typeof value === 'number' ? decimalText(value) : value
  return SPECIAL.test(s) ? s.replace(SPECIAL_GLOBAL, (c) => ESCAPES[c]!) : s
}

/** One row in COPY text format, newline included. */
export function copyRow(fields: readonly (string | number | null | undefined)[]): string {
  let line = ''
  for (let i = 0; i < fields.length; i++) line += (i === 0 ? '' : '\t') + copyField(fields[i])
  return `${line}\n`
}

/**
 * The exact decimal text of a finite JS number: its shortest round-trip form, which PostgreSQL's
 * numeric input reads exactly (exponents included). NaN and infinities are refused.
 */
export function decimalText(value: number | string): string {
  if (typeof value === 'string') return value
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`)
  return Object.is(value, -0) ? '0' : String(value)
}

/** Sort key of an RFC 3339 UTC timestamp in microseconds since the epoch (exact below 2^53). */
export function microsOf(iso: string): number {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) throw new RangeError(`not a timestamp: ${iso}`)
  const fraction = /\.(\d+)/.exec(iso)?.[1] ?? ''
  return ms * 1000 + Number(fraction.slice(3, 6).padEnd(3, '0'))
}
