import { describe, expect, it } from 'vitest'
import { planWindow } from './window.js'

const d = (s: string) => new Date(s)
const W = d('2026-03-02T10:00:00Z')

describe('planWindow', () => {
  it('splits an unaligned window into leading edge, whole hours and trailing part', () => {
    expect(planWindow({ from: d('2026-03-01T10:20:00Z'), to: d('2026-03-02T10:20:00Z') }, W)).toEqual({
      rollup: { from: d('2026-03-01T11:00:00Z'), to: W },
      history: [
        { from: d('2026-03-01T10:20:00Z'), to: d('2026-03-01T11:00:00Z') },
        { from: W, to: d('2026-03-02T10:20:00Z') },
      ],
    })
  })

  it('reads open hours from history when the watermark is behind the window end', () => {
    const plan = planWindow({ from: d('2026-03-02T00:00:00Z'), to: d('2026-03-02T15:30:00Z') }, W)
    expect(plan.rollup).toEqual({ from: d('2026-03-02T00:00:00Z'), to: W })
    expect(plan.history).toEqual([{ from: W, to: d('2026-03-02T15:30:00Z') }])
  })

  it('has no edges for an aligned window below the watermark', () => {
    const plan = planWindow({ from: d('2026-03-01T00:00:00Z'), to: d('2026-03-01T05:00:00Z') }, W)
    expect(plan).toEqual({
      rollup: { from: d('2026-03-01T00:00:00Z'), to: d('2026-03-01T05:00:00Z') },
      history: [],
    })
  })

  it('uses history alone inside one hour, or when the watermark is before the first whole hour', () => {
    const inside = { from: d('2026-03-01T10:10:00Z'), to: d('2026-03-01T10:50:00Z') }
    expect(planWindow(inside, W)).toEqual({ rollup: null, history: [inside] })
    const late = { from: d('2026-03-02T09:30:00Z'), to: d('2026-03-02T12:00:00Z') }
    expect(planWindow(late, W)).toEqual({ rollup: null, history: [late] })
  })

  it('treats an infinite watermark (per-batch mode) as every hour closed', () => {
    const plan = planWindow({ from: d('2026-03-01T10:20:00Z'), to: d('2026-03-01T13:05:00Z') }, Infinity)
    expect(plan.rollup).toEqual({ from: d('2026-03-01T11:00:00Z'), to: d('2026-03-01T13:00:00Z') })
    expect(plan.history).toHaveLength(2)
  })

  it('covers every instant of random windows exactly once', () => {
    for (let i = 0; i < 500; i++) {
      const from = new Date(Date.UTC(2026, 0, 1) + Math.floor(Math.random() * 5e8))
      const to = new Date(from.getTime() + 1 + Math.floor(Math.random() * 2e8))
      const wm = new Date(Math.floor((from.getTime() + Math.random() * 3e8) / 3_600_000) * 3_600_000)
      const plan = planWindow({ from, to }, wm)
      const ranges = [...(plan.rollup ? [plan.rollup] : []), ...plan.history].sort(
        (a, b) => a.from.getTime() - b.from.getTime(),
      )
      expect(ranges[0]!.from).toEqual(from)
      expect(ranges.at(-1)!.to).toEqual(to)
      for (let k = 1; k < ranges.length; k++) expect(ranges[k]!.from).toEqual(ranges[k - 1]!.to)
      if (plan.rollup) {
        expect(plan.rollup.from.getTime() % 3_600_000).toBe(0)
        expect(plan.rollup.to.getTime() % 3_600_000).toBe(0)
        expect(plan.rollup.to.getTime()).toBeLessThanOrEqual(wm.getTime())
      }
    }
  })
})
