import { describe, expect, it } from 'vitest'
import { decimalText } from './copy-text.js'
import { DecimalSum } from './decimal-sum.js'

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
