import { describe, expect, it } from 'vitest'
import { planFleet, type FleetPlan } from './fleet.js'

const d = (iso: string) => new Date(iso)
const r = (from: string, to: string) => ({ from: d(from), to: d(to) })

describe('planFleet', () => {
  it('reads whole hours, the edge hours by minute and the edge minutes from history', () => {
    expect(planFleet(r('2026-06-01T10:17:30Z', '2026-06-02T10:17:30Z'))).toEqual<FleetPlan>({
      hours: r('2026-06-01T11:00:00Z', '2026-06-02T10:00:00Z'),
      minutes: [
        r('2026-06-01T10:18:00Z', '2026-06-01T11:00:00Z'),
        r('2026-06-02T10:00:00Z', '2026-06-02T10:17:00Z'),
      ],
      edges: [
        r('2026-06-01T10:17:30Z', '2026-06-01T10:18:00Z'),
        r('2026-06-02T10:17:00Z', '2026-06-02T10:17:30Z'),
      ],
    })
  })

  it('an hour-aligned window is hours only', () => {
    expect(planFleet(r('2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z'))).toEqual<FleetPlan>({
      hours: r('2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z'),
      minutes: [],
      edges: [],
    })
  })

  it('a window without a whole hour is minutes and edges', () => {
    expect(planFleet(r('2026-06-01T10:05:10Z', '2026-06-01T10:55:00Z'))).toEqual<FleetPlan>({
      hours: null,
      minutes: [r('2026-06-01T10:06:00Z', '2026-06-01T10:55:00Z')],
      edges: [r('2026-06-01T10:05:10Z', '2026-06-01T10:06:00Z')],
    })
  })

  it('a window inside one minute is one edge', () => {
    expect(planFleet(r('2026-06-01T10:05:10Z', '2026-06-01T10:05:50Z'))).toEqual<FleetPlan>({
      hours: null,
      minutes: [],
      edges: [r('2026-06-01T10:05:10Z', '2026-06-01T10:05:50Z')],
    })
  })

  it('the parts tile the window exactly, for any window', () => {
    const base = Date.parse('2026-06-01T00:00:00Z')
    let seed = 7
    const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647
    for (let i = 0; i < 500; i++) {
      const from = base + Math.floor(rand() * 3 * 86_400_000)
      const to = from + Math.floor(rand() * 2 * 86_400_000) + 1
      const plan = planFleet({ from: new Date(from), to: new Date(to) })
      const parts = [...(plan.hours ? [plan.hours] : []), ...plan.minutes, ...plan.edges]
        .map((p) => [p.from.getTime(), p.to.getTime()] as const)
        .sort((a, b) => a[0] - b[0])
      expect(parts[0]![0]).toBe(from)
      expect(parts.at(-1)![1]).toBe(to)
      for (let k = 1; k < parts.length; k++) expect(parts[k]![0]).toBe(parts[k - 1]![1])
      for (const [a, b] of parts) expect(a).toBeLessThan(b)
      if (plan.hours) expect(plan.hours.from.getTime() % 3_600_000).toBe(0)
      for (const m of plan.minutes)
        expect([m.from.getTime() % 60_000, m.to.getTime() % 60_000]).toEqual([0, 0])
    }
  })
})
