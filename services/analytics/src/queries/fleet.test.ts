import { describe, expect, it } from 'vitest'
import { planFleet, type FleetPlan, type HistoryEdge } from './fleet.js'

const d = (iso: string) => new Date(iso)
const r = (from: string, to: string) => ({ from: d(from), to: d(to) })
const add = (from: string, to: string): HistoryEdge => ({ ...r(from, to), sign: 1 })
const sub = (from: string, to: string): HistoryEdge => ({ ...r(from, to), sign: -1 })

describe('planFleet', () => {
  it('reads whole hours, the edge hours by minute and edge minutes up to half covered from history', () => {
    expect(planFleet(r('2026-06-01T10:17:30Z', '2026-06-02T10:17:30Z'))).toEqual<FleetPlan>({
      hours: r('2026-06-01T11:00:00Z', '2026-06-02T10:00:00Z'),
      minutes: [
        r('2026-06-01T10:18:00Z', '2026-06-01T11:00:00Z'),
        r('2026-06-02T10:00:00Z', '2026-06-02T10:17:00Z'),
      ],
      edges: [
        add('2026-06-01T10:17:30Z', '2026-06-01T10:18:00Z'),
        add('2026-06-02T10:17:00Z', '2026-06-02T10:17:30Z'),
      ],
    })
  })

  it('reads an edge minute more than half covered as the whole minute less the part left out', () => {
    expect(planFleet(r('2026-06-01T10:17:10Z', '2026-06-02T10:17:50Z'))).toEqual<FleetPlan>({
      hours: r('2026-06-01T11:00:00Z', '2026-06-02T10:00:00Z'),
      minutes: [
        r('2026-06-01T10:18:00Z', '2026-06-01T11:00:00Z'),
        r('2026-06-02T10:00:00Z', '2026-06-02T10:17:00Z'),
        r('2026-06-01T10:17:00Z', '2026-06-01T10:18:00Z'),
        r('2026-06-02T10:17:00Z', '2026-06-02T10:18:00Z'),
      ],
      edges: [
        sub('2026-06-01T10:17:00Z', '2026-06-01T10:17:10Z'),
        sub('2026-06-02T10:17:50Z', '2026-06-02T10:18:00Z'),
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
      minutes: [
        r('2026-06-01T10:06:00Z', '2026-06-01T10:55:00Z'),
        r('2026-06-01T10:05:00Z', '2026-06-01T10:06:00Z'),
      ],
      edges: [sub('2026-06-01T10:05:00Z', '2026-06-01T10:05:10Z')],
    })
  })

  it('a window inside one minute is one edge, read from history', () => {
    expect(planFleet(r('2026-06-01T10:05:10Z', '2026-06-01T10:05:50Z'))).toEqual<FleetPlan>({
      hours: null,
      minutes: [],
      edges: [add('2026-06-01T10:05:10Z', '2026-06-01T10:05:50Z')],
    })
  })

  it('the parts, counted with their signs, cover the window exactly, for any window', () => {
    const base = Date.parse('2026-06-01T00:00:00Z')
    let seed = 7
    const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647
    for (let i = 0; i < 500; i++) {
      const from = base + Math.floor(rand() * 3 * 86_400_000)
      const to = from + Math.floor(rand() * (i % 2 ? 2 * 86_400_000 : 5 * 60_000)) + 1
      const plan = planFleet({ from: new Date(from), to: new Date(to) })
      const signed = [
        ...(plan.hours ? [{ ...plan.hours, sign: 1 }] : []),
        ...plan.minutes.map((m) => ({ ...m, sign: 1 })),
        ...plan.edges,
      ]
      // Every boundary of a part, and either side of it, is covered once inside the window, never outside.
      const points = signed.flatMap((p) => [p.from.getTime(), p.to.getTime()]).flatMap((t) => [t - 1, t])
      for (const t of [...points, from - 1, from, to - 1, to]) {
        const count = signed
          .filter((p) => p.from.getTime() <= t && t < p.to.getTime())
          .reduce((n, p) => n + p.sign, 0)
        expect(count, `${new Date(t).toISOString()} in ${i}`).toBe(t >= from && t < to ? 1 : 0)
      }
      for (const p of signed) expect(p.from.getTime()).toBeLessThan(p.to.getTime())
      if (plan.hours) expect(plan.hours.from.getTime() % 3_600_000).toBe(0)
      for (const m of plan.minutes)
        expect([m.from.getTime() % 60_000, m.to.getTime() % 60_000]).toEqual([0, 0])
      // History is read for at most half a minute at each end, unless the window is inside a minute.
      if (plan.minutes.length > 0 || plan.hours)
        for (const e of plan.edges) expect(e.to.getTime() - e.from.getTime()).toBeLessThanOrEqual(30_000)
    }
  })
})
