import { describe, expect, it } from 'vitest'
import { bucketsOf, type BucketUnit } from '../time-buckets.js'
import { planSeries, type Pieces } from './series.js'

const H = 3_600_000
const t = (iso: string) => Date.parse(iso)
const starts = (tz: string, unit: BucketUnit, from: number, to: number) =>
  bucketsOf(tz, unit, from, to).map((b) => b.start)
const ranges = (p: Pieces) => p.from.map((f, i) => `${p.ids[i]} ${f} ${p.to[i]}`)
const hours = (p: Pieces) => p.from.reduce((n, f, i) => n + (Date.parse(p.to[i]!) - Date.parse(f)) / H, 0)

describe('planSeries', () => {
  it('hour and day buckets in whole-hour zones read every closed whole hour from rollups', () => {
    const from = t('2026-10-24T10:17:00Z')
    const to = t('2026-10-26T09:05:00Z')
    for (const [tz, unit] of [
      ['UTC', 'hour'],
      ['Europe/Berlin', 'day'],
      ['America/New_York', 'hour'],
    ] as const) {
      const plan = planSeries(
        [{ deviceId: 'V', range: { from: new Date(from), to: new Date(to) } }],
        starts(tz, unit, from, to),
        Infinity,
      )
      expect(ranges(plan.rollup), `${tz} ${unit}`).toEqual([
        'V 2026-10-24T11:00:00.000Z 2026-10-26T09:00:00.000Z',
      ])
      expect(ranges(plan.history)).toEqual([
        'V 2026-10-24T10:17:00.000Z 2026-10-24T11:00:00.000Z',
        'V 2026-10-26T09:00:00.000Z 2026-10-26T09:05:00.000Z',
      ])
    }
  })

  it('hours at and after the watermark come from history', () => {
    const from = t('2026-10-24T10:17:00Z')
    const to = t('2026-10-26T09:05:00Z')
    const plan = planSeries(
      [{ deviceId: 'V', range: { from: new Date(from), to: new Date(to) } }],
      starts('Europe/Berlin', 'hour', from, to),
      t('2026-10-25T03:00:00Z'),
    )
    expect(ranges(plan.rollup)).toEqual(['V 2026-10-24T11:00:00.000Z 2026-10-25T03:00:00.000Z'])
    expect(ranges(plan.history)).toEqual([
      'V 2026-10-24T10:17:00.000Z 2026-10-24T11:00:00.000Z',
      'V 2026-10-25T03:00:00.000Z 2026-10-26T09:05:00.000Z',
    ])
  })

  it('a half-hour zone splits the hour of each local midnight; 15m buckets split every hour', () => {
    const from = t('2026-01-01T00:00:00Z')
    const to = t('2026-01-04T00:00:00Z')
    const range = { from: new Date(from), to: new Date(to) }
    const kolkata = planSeries([{ deviceId: 'M', range }], starts('Asia/Kolkata', 'day', from, to), Infinity)
    // Local midnight is 18:30 UTC: the hours 18:00-19:00 are read from history, the other 69 from rollups.
    expect(hours(kolkata.rollup)).toBe(69)
    expect(ranges(kolkata.history)).toEqual([
      'M 2026-01-01T18:00:00.000Z 2026-01-01T19:00:00.000Z',
      'M 2026-01-02T18:00:00.000Z 2026-01-02T19:00:00.000Z',
      'M 2026-01-03T18:00:00.000Z 2026-01-03T19:00:00.000Z',
    ])
    const quarter = planSeries([{ deviceId: 'M', range }], starts('UTC', '15m', from, to), Infinity)
    expect(quarter.rollup.ids).toEqual([])
    expect(ranges(quarter.history)).toEqual(['M 2026-01-01T00:00:00.000Z 2026-01-04T00:00:00.000Z'])
  })

  it('plans each (device, range) of a vehicle assignment list on its own', () => {
    const from = t('2026-03-01T00:00:00Z')
    const to = t('2026-03-02T00:00:00Z')
    const plan = planSeries(
      [
        { deviceId: 'M1', range: { from: new Date(from), to: new Date(t('2026-03-01T05:30:00Z')) } },
        { deviceId: 'M2', range: { from: new Date(t('2026-03-01T05:30:00Z')), to: new Date(to) } },
      ],
      starts('UTC', 'day', from, to),
      Infinity,
    )
    expect(ranges(plan.rollup)).toEqual([
      'M1 2026-03-01T00:00:00.000Z 2026-03-01T05:00:00.000Z',
      'M2 2026-03-01T06:00:00.000Z 2026-03-02T00:00:00.000Z',
    ])
    expect(ranges(plan.history)).toEqual([
      'M1 2026-03-01T05:00:00.000Z 2026-03-01T05:30:00.000Z',
      'M2 2026-03-01T05:30:00.000Z 2026-03-01T06:00:00.000Z',
    ])
  })
})
