import { describe, expect, it } from 'vitest'
import { parseTimestamp } from './timestamp.js'

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
    ['yesterday', 'RFC 3339'],
  ])('rejects %s', (input, reason) => {
    const r = parseTimestamp(input)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.reason).toContain(reason)
  })
})
