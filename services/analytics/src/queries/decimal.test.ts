import { describe, expect, it } from 'vitest'
import {
  ZERO,
  addDecimal,
  compareProducts,
  decimalNumber,
  decimalText,
  parseDecimal,
  subtractDecimal,
} from './decimal.js'

describe('decimal', () => {
  it.each([
    ['12.3400', '12.3400'],
    ['-0.5', '-0.5'],
    ['0', '0'],
    ['1e-7', '0.0000001'],
    ['1.5E3', '1500'],
    ['.25', '0.25'],
    ['123.456789012345', '123.456789012345'],
  ])('parses %s', (text, plain) => {
    expect(decimalText(parseDecimal(text))).toBe(plain)
  })

  it.each(['', 'abc', '1.2.3', '--1', 'NaN', 'Infinity'])('refuses "%s"', (text) => {
    expect(() => parseDecimal(text)).toThrow(/not a decimal/)
  })

  it('adds and subtracts exactly where doubles do not', () => {
    const sum = ['0.1', '0.2', '0.0000001', '123.456789012345'].map(parseDecimal).reduce(addDecimal, ZERO)
    expect(decimalText(sum)).toBe('123.756789112345')
    expect(0.1 + 0.2).not.toBe(0.3)
    expect(decimalText(addDecimal(parseDecimal('0.1'), parseDecimal('0.2')))).toBe('0.3')
    expect(decimalText(subtractDecimal(sum, parseDecimal('123.456789012345')))).toBe('0.300000100000') // the larger scale is kept, as numeric keeps it
    expect(decimalNumber(parseDecimal('0.30'))).toBe(0.3)
  })

  it('compares products exactly', () => {
    const d = parseDecimal
    expect(compareProducts(d('0.85'), d('10'), d('8.5'), d('1'))).toBe(0)
    expect(compareProducts(d('0.85'), d('10'), d('8.4999999999999999999'), d('1'))).toBe(1)
    expect(compareProducts(d('-1'), d('2'), d('0'), d('5'))).toBe(-1)
  })

  it('sums random values as PostgreSQL numeric would (integer arithmetic on the same digits)', () => {
    let seed = 11
    const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647
    let units = 0n
    let sum = ZERO
    for (let i = 0; i < 1000; i++) {
      const cents = BigInt(Math.floor(rand() * 1e9))
      units += cents * 10n ** 4n // every value at scale 6
      sum = addDecimal(
        sum,
        parseDecimal(`${(cents / 100n).toString()}.${(cents % 100n).toString().padStart(2, '0')}`),
      )
    }
    expect(addDecimal(sum, ZERO).units * 10n ** BigInt(6 - sum.scale)).toBe(units)
  })
})
