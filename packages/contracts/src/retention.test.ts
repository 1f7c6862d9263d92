import { describe, expect, it } from 'vitest'
import { retentionCutoff } from './retention.js'

describe('retentionCutoff', () => {
  it('keeps the current UTC month and the N months before it', () => {
    expect(retentionCutoff(new Date('2026-11-22T17:00:00Z'), 13)).toEqual(new Date('2025-10-01T00:00:00Z'))
    expect(retentionCutoff(new Date('2026-01-01T00:00:00Z'), 1)).toEqual(new Date('2025-12-01T00:00:00Z'))
    // The month is the UTC one: 23:30 on Dec 31 at -01:00 is already January in UTC.
    expect(retentionCutoff(new Date('2026-12-31T23:30:00-01:00'), 1)).toEqual(
      new Date('2026-12-01T00:00:00Z'),
    )
  })

  it('refuses a retention that is not a whole number of months >= 1', () => {
    expect(() => retentionCutoff(new Date('2026-01-01T00:00:00Z'), 0)).toThrow(RangeError)
    expect(() => retentionCutoff(new Date('2026-01-01T00:00:00Z'), 1.5)).toThrow(RangeError)
  })

  it('refuses an invalid date', () => {
    expect(() => retentionCutoff(new Date(Number.NaN), 13)).toThrow(RangeError)
  })
})
