import { describe, expect, it } from 'vitest'
import { validateReading } from '@energy-ingest/contracts'
import { Fleet } from './fleet.js'
import { roundRows } from './history-loader.js'

describe('Fleet', () => {
  it('produces readings the contract accepts, with DC below AC and SoC rising while charging', () => {
    const fleet = new Fleet({ vehicles: 200, meters: 200, seed: 1 })
    const start = Date.parse('2026-01-01T00:00:00Z')
    const socBefore = new Map(fleet.vehicles.map((v) => [v.id, v.soc]))
    const charging = new Set(fleet.vehicles.filter((v) => v.charging).map((v) => v.id))
    for (let minute = 1; minute <= 30; minute++) {
      const { meters, vehicles } = fleet.step(new Date(start + minute * 60_000), 60)
      for (const r of [...meters, ...vehicles]) expect(validateReading(r).ok).toBe(true)
      const acByMeter = new Map(meters.map((m) => [m.meterId, m.kwhConsumedAc]))
      for (const [i, v] of vehicles.entries()) {
        expect(v.kwhDeliveredDc).toBeLessThanOrEqual(acByMeter.get(fleet.vehicles[i]!.meterId)!)
      }
    }
    const risen = [...charging].filter(
      (id) => fleet.vehicles.find((v) => v.id === id)!.soc > socBefore.get(id)!,
    )
    expect(risen.length).toBeGreaterThan(charging.size / 2)
  })
})

describe('roundRows', () => {
  const shape = {
    vehicles: 50,
    meters: 60,
    intervalS: 180,
    newestMs: Date.parse('2026-03-01T00:00:00Z'),
    maxRounds: 100,
  }

  it('is a pure function of the round, and rounds tile time without overlap', () => {
    expect(roundRows(shape, 7)).toEqual(roundRows(shape, 7))
    const r0 = roundRows(shape, 0)
    const r1 = roundRows(shape, 1)
    const min0 = Math.min(...[...r0.meters, ...r0.vehicles].map((r) => Date.parse(r.timestamp)))
    const max1 = Math.max(...[...r1.meters, ...r1.vehicles].map((r) => Date.parse(r.timestamp)))
    expect(min0).toBe(shape.newestMs)
    expect(max1).toBeLessThan(min0)
    expect(r0.meters).toHaveLength(60)
    expect(r0.vehicles).toHaveLength(50)
  })

  it('keeps every value inside the contract and efficiency in a charger-like range', () => {
    for (let r = 0; r < 100; r++) {
      const { meters, vehicles } = roundRows(shape, r)
      for (const m of meters) expect(validateReading({ ...m }).ok).toBe(true)
      for (const [d, v] of vehicles.entries()) {
        expect(validateReading({ ...v }).ok).toBe(true)
        const ac = Number(meters[d]!.kwhConsumedAc)
        if (Number(v.kwhDeliveredDc) > 0) expect(Number(v.kwhDeliveredDc) / ac).toBeGreaterThan(0.65)
        expect(Number(v.kwhDeliveredDc)).toBeLessThanOrEqual(ac)
      }
    }
  })
})
