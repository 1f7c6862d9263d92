import { describe, expect, it } from 'vitest'
import {
  boundariesIn,
  bucketsOf,
  canonicalTimeZone,
  formatLocal,
  offsetAt,
  offsetSegments,
  type BucketUnit,
} from './time-buckets.js'

const H = 3_600_000
const t = (iso: string) => Date.parse(iso)
const labels = (tz: string, unit: BucketUnit, from: string, to: string) =>
  bucketsOf(tz, unit, t(from), t(to)).map((b) => formatLocal(tz, b.start))

describe('canonicalTimeZone', () => {
  it('accepts IANA names (case-insensitively) and UTC, refuses offsets, abbreviations and junk', () => {
    expect(canonicalTimeZone('Europe/Berlin')).toBe('Europe/Berlin')
    expect(canonicalTimeZone('europe/berlin')).toBe('Europe/Berlin')
    expect(canonicalTimeZone('America/New_York')).toBe('America/New_York')
    expect(canonicalTimeZone('UTC')).toBe('UTC')
    expect(canonicalTimeZone('America/Argentina/Buenos_Aires')).toBe('America/Argentina/Buenos_Aires')
    expect(canonicalTimeZone('Asia/Kolkata')).toBe('Asia/Kolkata')
    for (const bad of ['Mars/Olympus', '+02:00', 'CEST', '', 'Europe/Berlin; DROP', '../etc', 'a'.repeat(80)])
      expect(canonicalTimeZone(bad), bad).toBeUndefined()
  })
})

describe('offsets', () => {
  it('reads the zone offset at an instant', () => {
    expect(offsetAt('UTC', t('2026-03-29T12:00:00Z'))).toBe(0)
    expect(offsetAt('Europe/Berlin', t('2026-01-15T12:00:00Z'))).toBe(H)
    expect(offsetAt('Europe/Berlin', t('2026-07-15T12:00:00Z'))).toBe(2 * H)
    expect(offsetAt('America/New_York', t('2026-07-15T12:00:00Z'))).toBe(-4 * H)
    expect(offsetAt('Asia/Kolkata', t('2026-07-15T12:00:00Z'))).toBe(5.5 * H)
  })

  it('finds transitions to the second', () => {
    const segs = offsetSegments('Europe/Berlin', t('2026-03-28T00:00:00Z'), t('2026-10-30T00:00:00Z'))
    expect(segs.map((s) => [new Date(s.start).toISOString(), s.offset / H])).toEqual([
      ['2026-03-28T00:00:00.000Z', 1],
      ['2026-03-29T01:00:00.000Z', 2],
      ['2026-10-25T01:00:00.000Z', 1],
    ])
  })
})

describe('buckets', () => {
  it('day buckets follow local midnight: 23 h and 25 h DST days in Berlin', () => {
    const spring = bucketsOf('Europe/Berlin', 'day', t('2026-03-28T12:00:00Z'), t('2026-03-30T12:00:00Z'))
    expect(spring.map((b) => [formatLocal('Europe/Berlin', b.start), (b.end - b.start) / H])).toEqual([
      ['2026-03-28T00:00:00+01:00', 24],
      ['2026-03-29T00:00:00+01:00', 23],
      ['2026-03-30T00:00:00+02:00', 24],
    ])
    const fall = bucketsOf('Europe/Berlin', 'day', t('2026-10-24T22:00:00Z'), t('2026-10-26T23:00:00Z'))
    expect(fall.map((b) => [formatLocal('Europe/Berlin', b.start), (b.end - b.start) / H])).toEqual([
      ['2026-10-25T00:00:00+02:00', 25],
      ['2026-10-26T00:00:00+01:00', 24],
    ])
  })

  it('hour buckets: the skipped hour is absent, the repeated hour appears twice', () => {
    expect(labels('Europe/Berlin', 'hour', '2026-03-29T00:30:00Z', '2026-03-29T02:00:00Z')).toEqual([
      '2026-03-29T01:00:00+01:00',
      '2026-03-29T03:00:00+02:00',
    ])
    expect(labels('Europe/Berlin', 'hour', '2026-10-25T00:00:00Z', '2026-10-25T02:00:00Z')).toEqual([
      '2026-10-25T02:00:00+02:00',
      '2026-10-25T02:00:00+01:00',
    ])
    expect(labels('America/New_York', 'hour', '2026-11-01T05:00:00Z', '2026-11-01T07:00:00Z')).toEqual([
      '2026-11-01T01:00:00-04:00',
      '2026-11-01T01:00:00-05:00',
    ])
  })

  it('half-hour zones: hour buckets start at :30 UTC; 15m buckets stay quarter-hours', () => {
    const b = bucketsOf('Asia/Kolkata', 'hour', t('2026-01-01T00:10:00Z'), t('2026-01-01T02:00:00Z'))
    expect(b.map((x) => new Date(x.start).toISOString())).toEqual([
      '2025-12-31T23:30:00.000Z',
      '2026-01-01T00:30:00.000Z',
      '2026-01-01T01:30:00.000Z',
    ])
    expect(formatLocal('Asia/Kolkata', b[1]!.start)).toBe('2026-01-01T06:00:00+05:30')
    expect(labels('Asia/Kathmandu', '15m', '2026-01-01T00:00:00Z', '2026-01-01T00:30:00Z')).toEqual([
      '2026-01-01T05:45:00+05:45',
      '2026-01-01T06:00:00+05:45',
    ])
  })

  it('a 30-minute DST shift (Lord Howe) gives a 90 min and a 30 min hour', () => {
    // 2026-04-05 02:00 +11 -> 01:30 +10:30 (fall back by 30 min).
    const b = bucketsOf('Australia/Lord_Howe', 'hour', t('2026-04-04T14:00:00Z'), t('2026-04-04T16:00:00Z'))
    expect(b.map((x) => [formatLocal('Australia/Lord_Howe', x.start), (x.end - x.start) / 60_000])).toEqual([
      ['2026-04-05T01:00:00+11:00', 90],
      ['2026-04-05T02:00:00+10:30', 60],
    ])
  })

  it('the first bucket contains from and the last contains to - 1 ms; buckets tile', () => {
    const from = t('2026-03-29T00:17:00Z')
    const to = t('2026-03-31T05:03:00Z')
    const b = bucketsOf('America/New_York', 'day', from, to)
    expect(b[0]!.start).toBeLessThanOrEqual(from)
    expect(b[0]!.end).toBeGreaterThan(from)
    expect(b[b.length - 1]!.start).toBeLessThan(to)
    expect(b[b.length - 1]!.end).toBeGreaterThanOrEqual(to)
    for (let i = 1; i < b.length; i++) expect(b[i]!.start).toBe(b[i - 1]!.end)
  })

  it('agrees with a minute-by-minute reading of the local clock around every 2026 transition', () => {
    // Brute force: a boundary is a minute at which the local clock reads a whole quarter/hour
    // (15m/hour), or shows a later quarter/hour/date than a minute before. Transitions are located by
    // an independent scan of the offset twice a day; zones with transitions at odd local times and
    // midnight gaps (Santiago), half-hour shifts (Lord Howe) and :45 offsets (Chatham) included.
    const zones = [
      'Europe/Berlin',
      'America/New_York',
      'America/Santiago',
      'Asia/Kolkata',
      'Australia/Lord_Howe',
      'America/St_Johns',
      'Africa/Casablanca',
      'Pacific/Chatham',
      'UTC',
    ]
    let windows = 0
    for (const tz of zones) {
      const around: number[] = [t('2026-06-01T00:00:00Z')]
      for (let d = t('2026-01-01T00:00:00Z'); d < t('2027-01-01T00:00:00Z'); d += 12 * H)
        if (offsetAt(tz, d) !== offsetAt(tz, d + 12 * H)) around.push(d)
      for (const center of around) {
        const lo = center - 36 * H
        const hi = center + 48 * H
        const local: number[] = []
        for (let m = lo - 60_000; m < hi; m += 60_000) local.push(m + offsetAt(tz, m))
        for (const [unit, u] of [
          ['15m', 900_000],
          ['hour', H],
          ['day', 24 * H],
        ] as const) {
          const expected: number[] = []
          for (let i = 1; i < local.length; i++) {
            const isMark = unit !== 'day' && local[i]! % u === 0
            const newer = Math.floor(local[i]! / u) > Math.floor(local[i - 1]! / u)
            if (isMark || newer) expected.push(lo + (i - 1) * 60_000)
          }
          expect(boundariesIn(tz, unit, lo, hi), `${tz} ${unit} ${new Date(center).toISOString()}`).toEqual(
            expected,
          )
        }
        windows++
      }
    }
    expect(windows).toBeGreaterThan(20)
  }, 60_000)
})
