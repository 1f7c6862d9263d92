// Exact sums of decimal strings in JS, so a batch's fleet totals can be sent to PostgreSQL as a few
// pre-summed rows: numeric addition is exact, so the result has the digits PostgreSQL's own sum() gives.
// Plain decimals of up to 15 digits (every reading the contracts accept, in practice) are added as safe
// JS integers; anything else, and a total that outgrows 2^53, goes through BigInt.

const DECIMAL = /^(-?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/

/** A decimal as an integer count of 10^-scale units: `1.25` is `{ units: 125n, scale: 2 }`. */
export interface ScaledDecimal {
  units: bigint
  scale: number
}

/** The exact value of decimal text (`-12.5`, `1e-3`), as integer units and a scale ≥ 0. */
export function parseScaledDecimal(text: string): ScaledDecimal {
  const m = DECIMAL.exec(text)
  if (!m) throw new RangeError(`not a decimal: ${JSON.stringify(text)}`)
  const fraction = m[3] ?? ''
  let scale = fraction.length - Number(m[4] ?? 0)
  let digits = m[2]! + fraction
  if (scale < 0) {
    digits += '0'.repeat(-scale)
    scale = 0
  }
  const units = BigInt(digits)
  return { units: m[1] === '-' ? -units : units, scale }
}

const SAFE = Number.MAX_SAFE_INTEGER
const POW10: bigint[] = [1n]
const pow10 = (n: number): bigint => {
  while (POW10.length <= n) POW10.push(POW10[POW10.length - 1]! * 10n)
  return POW10[n]!
}

/** Plain decimal text of a scaled decimal, scale kept (`{ units: -5n, scale: 2 }` is `-0.05`). */
export function scaledText(d: ScaledDecimal): string {
  const negative = d.units < 0n
  const digits = (negative ? -d.units : d.units).toString().padStart(d.scale + 1, '0')
  const whole = digits.slice(0, digits.length - d.scale)
  const fraction = d.scale > 0 ? `.${digits.slice(digits.length - d.scale)}` : ''
  return `${negative ? '-' : ''}${whole}${fraction}`
}

const atScale = (d: ScaledDecimal, scale: number): bigint => d.units * pow10(scale - d.scale)

/** Exact a + b, at the larger scale (as numeric addition keeps it). */
export function addScaled(a: ScaledDecimal, b: ScaledDecimal): ScaledDecimal {
  const scale = Math.max(a.scale, b.scale)
  return { units: atScale(a, scale) + atScale(b, scale), scale }
}

/** Exact a - b, at the larger scale. */
export function subtractScaled(a: ScaledDecimal, b: ScaledDecimal): ScaledDecimal {
  return addScaled(a, { units: -b.units, scale: b.scale })
}

/** -1, 0 or 1 as a·x compares to b·y, exactly. */
export function compareScaledProducts(
  a: ScaledDecimal,
  x: ScaledDecimal,
  b: ScaledDecimal,
  y: ScaledDecimal,
): number {
  const left = { units: a.units * x.units, scale: a.scale + x.scale }
  const right = { units: b.units * y.units, scale: b.scale + y.scale }
  const scale = Math.max(left.scale, right.scale)
  const d = atScale(left, scale) - atScale(right, scale)
  return d < 0n ? -1 : d > 0n ? 1 : 0
}

/** A running exact sum of decimal strings (as produced by decimalText). */
export class DecimalSum {
  /** value = (big + small) / 10^scale */
  private big = 0n
  private small = 0
  private scale = 0

  add(text: string): this {
    const dot = text.indexOf('.')
    if (text.length <= 16 && text.indexOf('e') < 0 && text.indexOf('E') < 0) {
      const fraction = dot < 0 ? 0 : text.length - dot - 1
      const units = Number(dot < 0 ? text : text.slice(0, dot) + text.slice(dot + 1))
      if (Number.isSafeInteger(units) && text !== '' && text !== '-') return this.addUnits(units, fraction)
    }
    return this.addSlow(text)
  }

  private addUnits(units: number, scale: number): this {
    if (scale > this.scale) this.rescale(scale)
    const aligned = scale < this.scale ? units * 10 ** (this.scale - scale) : units
    const next = this.small + aligned
    if (Number.isSafeInteger(aligned) && Math.abs(next) <= SAFE) {
      this.small = next
    } else {
      this.big += BigInt(units) * pow10(this.scale - scale)
    }
    return this
  }

  private rescale(scale: number) {
    const factor = scale - this.scale
    this.big = (this.big + BigInt(this.small)) * pow10(factor)
    this.small = 0
    this.scale = scale
  }

  private addSlow(text: string): this {
    const { units, scale } = parseScaledDecimal(text)
    if (scale > this.scale) this.rescale(scale)
    this.big += units * pow10(this.scale - scale)
    return this
  }

  /** Plain decimal text, e.g. `12.345`, `-0.05`, `0`. */
  toString(): string {
    return scaledText({ units: this.big + BigInt(this.small), scale: this.scale })
  }
}
