import { describe, expect, it } from 'vitest'
import { compareTimestamps, parseTimestamp } from './timestamp.js'

describe('parseTimestamp', () => {
  it.each([
    ['2026-01-31T12:00:00Z', '2026-01-31T12:00:00.000Z'],
    ['2026-01-31T12:00:00.5Z', '2026-01-31T12:00:00.500Z'],
    ['2026-01-31T14:30:00+02:30', '2026-01-31T12:00:00.000Z'],
    ['2026-01-01T00:30:00-01:00', '2026-01-01T01:30:00.000Z'],
    ['2026-03-01t00:00:00.123456z', '2026-03-01T00:00:00.123456Z'],
    ['2026-03-01T00:00:00.123000000Z', '2026-03-01T00:00:00.123Z'],
    ['2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
  ])('normalises %s to %s', (input, iso) => {
    const r = parseTimestamp(input)
    expect(r).toEqual({ ok: true, value: { iso, epochMs: Date.parse(iso) } })
  })

  it.each([
    ['2026-01-31T12:00:00', 'zone'],
    ['2026-01-31', 'zone'],
    ['2026-02-30T00:00:00Z', 'day out of range'],
    ['2027-02-29T00:00:00Z', 'day out of range'],
    ['2026-13-01T00:00:00Z', 'month out of range'],
    ['2026-01-01T24:00:00Z', 'time of day'],
    ['2026-01-01T00:00:00.1234567Z', 'microsecond'],
    ['2026-01-01T00:00:00+24:00', 'offset'],
    ['1969-12-31T23:59:59Z', '1970'],
    ['0070-01-01T00:00:00Z', '1970'],
    // Year 1970 as written, 1969 in UTC.
    ['1970-01-01T00:30:00+01:00', '1970'],
    // Year 9999 as written, 10000 in UTC.
    ['9999-12-31T20:00:00-05:00', '9999'],
    ['yesterday', 'RFC 3339'],
  ])('rejects %s', (input, reason) => {
    const r = parseTimestamp(input)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.reason).toContain(reason)
  })
})

describe('parseTimestamp, range', () => {
  it('accepts the first and the last instant of years 1970 to 9999 in UTC', () => {
    expect(parseTimestamp('1970-01-01T01:00:00+01:00')).toEqual({
      ok: true,
      value: { iso: '1970-01-01T00:00:00.000Z', epochMs: 0 },
    })
    expect(parseTimestamp('9999-12-31T23:59:59.999999Z')).toEqual({
      ok: true,
      value: { iso: '9999-12-31T23:59:59.999999Z', epochMs: Date.UTC(9999, 11, 31, 23, 59, 59, 999) },
    })
  })
})

describe('compareTimestamps', () => {
  const t = (s: string) => {
    const r = parseTimestamp(s)
    if (!r.ok) throw new Error(r.reason)
    return r.value
  }

  it('orders instants down to the microsecond', () => {
    expect(
      compareTimestamps(t('2026-01-01T00:00:00.123456Z'), t('2026-01-01T00:00:00.123457Z')),
    ).toBeLessThan(0)
    expect(
      compareTimestamps(t('2026-01-01T00:00:00.123457Z'), t('2026-01-01T00:00:00.123456Z')),
    ).toBeGreaterThan(0)
    expect(compareTimestamps(t('2026-01-01T00:00:00.123Z'), t('2026-01-01T00:00:00.123001Z'))).toBeLessThan(0)
    expect(compareTimestamps(t('2026-01-01T01:00:00.5+01:00'), t('2026-01-01T00:00:00.500000Z'))).toBe(0)
    expect(compareTimestamps(t('2026-01-01T00:00:00.999999Z'), t('2026-01-01T00:00:01Z'))).toBeLessThan(0)
  })
})

describe('parseTimestamp, repeated', () => {
  it('answers the same input the same way, with a result nobody can change', () => {
    const a = parseTimestamp('2026-01-31T12:00:00Z')
    const b = parseTimestamp('2026-01-31T12:00:00Z')
    expect(b).toEqual(a)
    expect(Object.isFrozen(b)).toBe(true)
    expect(parseTimestamp('2026-01-31T12:00:01Z')).toEqual({
      ok: true,
      value: { iso: '2026-01-31T12:00:01.000Z', epochMs: Date.parse('2026-01-31T12:00:01Z') },
    })
  })
})

describe('parseTimestamp, UTC fast path', () => {
  it('gives what toISOString gives, for Z and +00:00', () => {
    for (let i = 0; i < 2000; i++) {
      const ms = Date.UTC(
        1970 + (i % 150),
        i % 12,
        1 + (i % 28),
        i % 24,
        (i * 7) % 60,
        (i * 13) % 60,
        i % 1000,
      )
      const iso = new Date(ms).toISOString()
      expect(parseTimestamp(iso)).toEqual({ ok: true, value: { iso, epochMs: ms } })
      expect(parseTimestamp(iso.replace('Z', '+00:00'))).toEqual({ ok: true, value: { iso, epochMs: ms } })
    }
  })
})
