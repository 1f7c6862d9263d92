import { describe, expect, it } from 'vitest'
import { copyField, copyRow, decimalText, microsOf } from './copy-text.js'

describe('COPY text encoding', () => {
  it('joins fields with tabs, ends with a newline, writes NULL as \\N', () => {
    expect(copyRow(['M-1', '2026-01-01T00:00:00.000Z', 1.25, 230, null])).toBe(
      'M-1\t2026-01-01T00:00:00.000Z\t1.25\t230\t\\N\n',
    )
  })

  it('escapes backslash, tab, newline and carriage return', () => {
    expect(copyField('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re')
  })

  it('writes numbers in their shortest exact form', () => {
    expect(decimalText(0.1)).toBe('0.1')
    expect(decimalText(1e-7)).toBe('1e-7')
    expect(decimalText(123456.789)).toBe('123456.789')
    expect(decimalText(-0)).toBe('0')
    expect(() => decimalText(Number.NaN)).toThrow(RangeError)
    expect(() => decimalText(Number.POSITIVE_INFINITY)).toThrow(RangeError)
  })
})

describe('microsOf', () => {
  it('orders millisecond and microsecond forms correctly', () => {
    expect(microsOf('2026-01-01T00:00:00.123Z')).toBeLessThan(microsOf('2026-01-01T00:00:00.123456Z'))
    expect(microsOf('2026-01-01T00:00:00.123456Z') - microsOf('2026-01-01T00:00:00.123Z')).toBe(456)
    expect(microsOf('2026-01-01T00:00:00Z')).toBe(Date.parse('2026-01-01T00:00:00Z') * 1000)
  })
})
