// Exact sums of decimal strings in JS (BigInt, scaled), so a batch's fleet totals can be sent to
// PostgreSQL as a few pre-summed rows: numeric addition is exact, so the result is the same digits
// PostgreSQL's own sum() would give.

const DECIMAL = /^(-?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/
const POW10: bigint[] = [1n]
const pow10 = (n: number): bigint => {
  while (POW10.length <= n) POW10.push(POW10[POW10.length - 1]! * 10n)
  return POW10[n]!
}

/** A running exact sum of decimal strings (as produced by decimalText). */
export class DecimalSum {
  private units = 0n
  private scale = 0

  add(text: string): this {
    const m = DECIMAL.exec(text)
    if (!m) throw new RangeError(`not a decimal: ${JSON.stringify(text)}`)
    const fraction = m[3] ?? ''
    let scale = fraction.length - Number(m[4] ?? 0)
    let digits = m[2]! + fraction
    if (scale < 0) {
      digits += '0'.repeat(-scale)
      scale = 0
    }
    let units = BigInt(digits)
    if (m[1] === '-') units = -units
    if (scale > this.scale) {
      this.units *= pow10(scale - this.scale)
      this.scale = scale
    } else if (scale < this.scale) {
      units *= pow10(this.scale - scale)
    }
    this.units += units
    return this
  }

  /** Plain decimal text, e.g. `12.345`, `-0.05`, `0`. */
  toString(): string {
    const negative = this.units < 0n
    const digits = (negative ? -this.units : this.units).toString().padStart(this.scale + 1, '0')
    const whole = digits.slice(0, digits.length - this.scale)
    const fraction = this.scale > 0 ? `.${digits.slice(digits.length - this.scale)}` : ''
    return `${negative ? '-' : ''}${whole}${fraction}`
  }
}
