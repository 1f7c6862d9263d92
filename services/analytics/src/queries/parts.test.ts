import { describe, expect, it } from 'vitest'
import { bucketsOf, type BucketUnit } from '../time-buckets.js'
import { hourRuns, rangePieces, type HourRuns } from './parts.js'
import type { Range } from './window.js'

const H = 3_600_000
const t = (iso: string) => Date.parse(iso)
const win = (from: string, to: string): Range => ({ from: new Date(from), to: new Date(to) })
const starts = (tz: string, unit: BucketUnit, w: Range) =>
  bucketsOf(tz, unit, w.from.getTime(), w.to.getTime()).map((b) => b.start)
const text = (rs: Range[]) => rs.map((r) => `${r.from.toISOString()} ${r.to.toISOString()}`)
const hours = (rs: Range[]) => rs.reduce((n, r) => n + (r.to.getTime() - r.from.getTime()) / H, 0)

describe('hourRuns', () => {
  it('without boundaries, or with hour and day buckets in whole-hour zones, every whole hour is one rollup run', () => {
    const w = win('2026-10-24T10:17:00Z', '2026-10-26T09:05:00Z')
    for (const boundaries of [
      [],
      starts('UTC', 'hour', w),
      starts('Europe/Berlin', 'day', w),
      starts('America/New_York', 'hour', w),
    ]) {
      expect(hourRuns(w, boundaries)).toEqual({
        rollup: [win('2026-10-24T11:00:00Z', '2026-10-26T09:00:00Z')],
        history: [],
      })
    }
  })

  it('a half-hour zone splits the hour of each local midnight; 15m buckets split every hour', () => {
    const w = win('2026-01-01T00:00:00Z', '2026-01-04T00:00:00Z')
    const kolkata = hourRuns(w, starts('Asia/Kolkata', 'day', w))
    // Local midnight is 18:30 UTC: the hours 18:00-19:00 are read from history, the other 69 from rollups.
    expect(hours(kolkata.rollup)).toBe(69)
    expect(text(kolkata.history)).toEqual([
      '2026-01-01T18:00:00.000Z 2026-01-01T19:00:00.000Z',
      '2026-01-02T18:00:00.000Z 2026-01-02T19:00:00.000Z',
      '2026-01-03T18:00:00.000Z 2026-01-03T19:00:00.000Z',
    ])
    const quarter = hourRuns(w, starts('UTC', '15m', w))
    expect(quarter).toEqual({ rollup: [], history: [w] })
  })

  it('has no runs inside one hour', () => {
    expect(hourRuns(win('2026-01-01T10:10:00Z', '2026-01-01T10:50:00Z'))).toEqual({ rollup: [], history: [] })
  })
})

describe('rangePieces (the bounds the statement computes)', () => {
  const W = t('2026-03-02T10:00:00Z')

  it('splits an unaligned range into leading edge, closed whole hours and the rest', () => {
    const w = win('2026-03-01T10:20:00Z', '2026-03-02T10:20:00Z')
    const p = rangePieces(w, hourRuns(w), W)
    expect(text(p.rollup)).toEqual(['2026-03-01T11:00:00.000Z 2026-03-02T10:00:00.000Z'])
    expect(text(p.history)).toEqual([
      '2026-03-01T10:20:00.000Z 2026-03-01T11:00:00.000Z',
      '2026-03-02T10:00:00.000Z 2026-03-02T10:20:00.000Z',
    ])
  })

  it('reads history alone when the watermark is before the first whole hour, or absent', () => {
    const w = win('2026-03-02T09:30:00Z', '2026-03-02T12:00:00Z')
    const split = [
      win('2026-03-02T09:30:00Z', '2026-03-02T10:00:00Z'),
      win('2026-03-02T10:00:00Z', '2026-03-02T12:00:00Z'),
    ]
    expect(rangePieces(w, hourRuns(w), W)).toEqual({ rollup: [], history: split })
    expect(rangePieces(w, hourRuns(w), -Infinity)).toEqual({ rollup: [], history: split })
  })

  it('clips the window runs to a range of an assignment', () => {
    const w = win('2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z')
    const runs = hourRuns(w, starts('UTC', 'day', w))
    const p = rangePieces(win('2026-03-01T05:30:00Z', '2026-03-02T00:00:00Z'), runs, Infinity)
    expect(text(p.rollup)).toEqual(['2026-03-01T06:00:00.000Z 2026-03-02T00:00:00.000Z'])
    expect(text(p.history)).toEqual(['2026-03-01T05:30:00.000Z 2026-03-01T06:00:00.000Z'])
  })

  it('covers every instant of random ranges exactly once; rollup pieces are closed, unsplit hours', () => {
    const zones: [string, BucketUnit][] = [
      ['UTC', 'hour'],
      ['Asia/Kolkata', 'day'],
      ['UTC', '15m'],
      ['Europe/Berlin', 'hour'],
    ]
    for (let i = 0; i < 300; i++) {
      const from = Date.UTC(2026, 0, 1) + Math.floor(Math.random() * 5e8)
      const w = { from: new Date(from), to: new Date(from + 1 + Math.floor(Math.random() * 2e8)) }
      const [tz, unit] = zones[i % zones.length]!
      const runs: HourRuns = hourRuns(w, starts(tz, unit, w))
      // A range inside the window (an assignment interval clipped to it).
      const f = w.from.getTime() + Math.floor(Math.random() * (w.to.getTime() - w.from.getTime()))
      const range = {
        from: new Date(f),
        to: new Date(f + 1 + Math.floor(Math.random() * (w.to.getTime() - f))),
      }
      const wm = Math.floor((from + Math.random() * 3e8) / H) * H
      const p = rangePieces(range, runs, wm)
      const all = [...p.rollup, ...p.history].sort((x, y) => x.from.getTime() - y.from.getTime())
      expect(all[0]!.from).toEqual(range.from)
      expect(all.at(-1)!.to).toEqual(range.to)
      for (let k = 1; k < all.length; k++) expect(all[k]!.from).toEqual(all[k - 1]!.to)
      for (const r of p.rollup) {
        expect(r.from.getTime() % H).toBe(0)
        expect(r.to.getTime() % H).toBe(0)
        expect(r.to.getTime()).toBeLessThanOrEqual(wm)
        expect(runs.history.some((h) => h.from < r.to && r.from < h.to)).toBe(false)
      }
    }
  })
})
