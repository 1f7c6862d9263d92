// Exact decimal sums for numbers PostgreSQL sends as numeric text: value = units / 10^scale. Summing
// per-hour rollups in the service must give the same total as PostgreSQL's numeric sum would, digit
// for digit, so no binary floating point until the answer is printed.

export interface Decimal {
  units: bigint
  scale: number
}

export const ZERO: Decimal = { units: 0n, scale: 0 }

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/

/** Parses numeric text ("12.3400", "-0.5", "1e-7"); throws on anything else. */
export function parseDecimal(text: string): Decimal {
  const m = DECIMAL.exec(text.trim())
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new Error(`not a decimal number: "${text}"`)
  const digits = `${m[2]}${m[3] ?? ''}` || '0'
  let scale = (m[3] ?? '').length - Number(m[4] ?? 0)
  let units = BigInt(digits)
  if (scale < 0) {
    units *= 10n ** BigInt(-scale)
    scale = 0
  }
  return { units: m[1] === '-' ? -units : units, scale }
}

function atScale(d: Decimal, scale: number): bigint {
  return d.units * 10n ** BigInt(scale - d.scale)
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const scale = Math.max(a.scale, b.scale)
  return { units: atScale(a, scale) + atScale(b, scale), scale }
}

export function subtractDecimal(a: Decimal, b: Decimal): Decimal {
  return addDecimal(a, { units: -b.units, scale: b.scale })
}

/** -1, 0 or 1 as a·x compares to b·y (exact). */
export function compareProducts(a: Decimal, x: Decimal, b: Decimal, y: Decimal): number {
  const left = { units: a.units * x.units, scale: a.scale + x.scale }
  const right = { units: b.units * y.units, scale: b.scale + y.scale }
  const scale = Math.max(left.scale, right.scale)
  const d = atScale(left, scale) - atScale(right, scale)
  return d < 0n ? -1 : d > 0n ? 1 : 0
}

export function signOf(d: Decimal): number {
  return d.units < 0n ? -1 : d.units > 0n ? 1 : 0
}

/** Plain decimal text ("-12.3400"), exact. */
export function decimalText(d: Decimal): string {
  const negative = d.units < 0n
  const digits = (negative ? -d.units : d.units).toString().padStart(d.scale + 1, '0')
  const whole = digits.slice(0, digits.length - d.scale)
  const fraction = d.scale > 0 ? `.${digits.slice(digits.length - d.scale)}` : ''
  return `${negative ? '-' : ''}${whole}${fraction}`
}

/** The nearest double, as Number() of the exact text gives it. */
export function decimalNumber(d: Decimal): number {
  return Number(decimalText(d))
}
