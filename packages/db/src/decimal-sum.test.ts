import { describe, expect, it } from 'vitest'
import { decimalText } from './copy-text.js'
import {
  DecimalSum,
  addScaled,
  compareScaledProducts,
  parseScaledDecimal,
  scaledText,
  subtractScaled,
  type ScaledDecimal,
} from './decimal-sum.js'

const sum = (xs: string[]) => xs.reduce((s, x) => s.add(x), new DecimalSum()).toString()

describe('DecimalSum', () => {
  it('adds exactly where floats do not', () => {
    expect(sum(['0.1', '0.2'])).toBe('0.3')
    expect(sum(['1.005', '2', '0.0001'])).toBe('3.0051')
  })

  it('handles exponents, negatives and zero', () => {
    expect(sum(['1e-7', '2'])).toBe('2.0000001')
    expect(sum(['1.5e2', '0.25'])).toBe('150.25')
    expect(sum(['-3.25', '1'])).toBe('-2.25')
    expect(sum(['-0.05'])).toBe('-0.05')
    expect(sum([])).toBe('0')
    expect(sum(['5', '-5'])).toBe('0')
  })

  it('agrees with the decimal text of every summand', () => {
    const values = [0.1, 1e-7, 123.456, 999.999, 0.000123, 42, -60, 119.9]
    expect(sum(values.map(decimalText))).toBe('1225.4551231')
  })

  it('refuses what is not a decimal', () => {
    expect(() => new DecimalSum().add('NaN')).toThrow(RangeError)
    expect(() => new DecimalSum().add('1,5')).toThrow(RangeError)
  })
})

describe('DecimalSum against BigInt arithmetic', () => {
  it('matches on random decimals of every size, including totals past 2^53', () => {
    let seed = 12345
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (let round = 0; round < 50; round++) {
      const s = new DecimalSum()
      let units = 0n
      const scale = 9
      for (let i = 0; i < 300; i++) {
        const digits = 1 + Math.floor(rand() * 17)
        const frac = Math.floor(rand() * Math.min(digits, 9))
        let text = ''
        for (let d = 0; d < digits; d++) text += String(Math.floor(rand() * 10))
        text = text.replace(/^0+(?=\d)/, '')
        const whole = text.slice(0, text.length - frac) || '0'
        const dec = frac > 0 ? `${whole}.${text.slice(text.length - frac)}` : whole
        const value = rand() < 0.2 ? `-${dec}` : dec
        s.add(value)
        const [w, f = ''] = value.replace('-', '').split('.')
        const u = BigInt(w! + f.padEnd(scale, '0'))
        units += value.startsWith('-') ? -u : u
      }
      const neg = units < 0n
      const digitsOut = (neg ? -units : units).toString().padStart(scale + 1, '0')
      const expected = `${neg ? '-' : ''}${digitsOut.slice(0, -scale)}.${digitsOut.slice(-scale)}`
      expect(Number(s.toString()) === Number(expected) && trim(s.toString()) === trim(expected)).toBe(true)
    }
  })
})

const trim = (x: string) => (x.includes('.') ? x.replace(/0+$/, '').replace(/\.$/, '') : x)

describe('scaled decimals', () => {
  const ZERO: ScaledDecimal = { units: 0n, scale: 0 }

  it.each([
    ['12.3400', '12.3400'],
    ['-0.5', '-0.5'],
    ['0', '0'],
    ['1e-7', '0.0000001'],
    ['1.5E3', '1500'],
    ['123.456789012345', '123.456789012345'],
  ])('parses %s', (text, plain) => {
    expect(scaledText(parseScaledDecimal(text))).toBe(plain)
  })

  it.each(['', 'abc', '1.2.3', '--1', 'NaN', 'Infinity'])('refuses "%s"', (text) => {
    expect(() => parseScaledDecimal(text)).toThrow(/not a decimal/)
  })

  it('adds and subtracts exactly where doubles do not', () => {
    const total = ['0.1', '0.2', '0.0000001', '123.456789012345']
      .map(parseScaledDecimal)
      .reduce(addScaled, ZERO)
    expect(scaledText(total)).toBe('123.756789112345')
    expect(0.1 + 0.2).not.toBe(0.3)
    expect(scaledText(addScaled(parseScaledDecimal('0.1'), parseScaledDecimal('0.2')))).toBe('0.3')
    // the larger scale is kept, as numeric keeps it
    expect(scaledText(subtractScaled(total, parseScaledDecimal('123.456789012345')))).toBe('0.300000100000')
    expect(Number(scaledText(parseScaledDecimal('0.30')))).toBe(0.3)
  })

  it('compares products exactly', () => {
    const d = parseScaledDecimal
    expect(compareScaledProducts(d('0.85'), d('10'), d('8.5'), d('1'))).toBe(0)
    expect(compareScaledProducts(d('0.85'), d('10'), d('8.4999999999999999999'), d('1'))).toBe(1)
    expect(compareScaledProducts(d('-1'), d('2'), d('0'), d('5'))).toBe(-1)
  })

  it('sums random values as PostgreSQL numeric would (integer arithmetic on the same digits)', () => {
    let seed = 11
    const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647
    let units = 0n
    let total = ZERO
    for (let i = 0; i < 1000; i++) {
      const cents = BigInt(Math.floor(rand() * 1e9))
      units += cents * 10n ** 4n // every value at scale 6
      total = addScaled(
        total,
        parseScaledDecimal(`${(cents / 100n).toString()}.${(cents % 100n).toString().padStart(2, '0')}`),
      )
    }
    expect(total.units * 10n ** BigInt(6 - total.scale)).toBe(units)
  })
})
