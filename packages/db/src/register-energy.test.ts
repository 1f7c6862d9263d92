import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AFFECTED_OFFSETS,
  compareDecimal,
  deriveRegisterEnergy,
  deriveRegisterEnergyAt,
  subtractDecimal,
  type DerivedEnergy,
  type RegisterPoint,
} from './register-energy.js'

const MIN = 60_000_000 // one minute in µs
const T0 = Date.parse('2026-03-01T00:00:00Z') * 1000

/** Points one minute apart from fixed registers. */
const pts = (...registers: (string | number)[]): RegisterPoint[] =>
  registers.map((r, i) => ({ tsMicros: T0 + i * MIN, registerKwh: r }))

const kwh = (d: DerivedEnergy[]) => d.map((e) => e.kwh)
const flags = (d: DerivedEnergy[]) => d.map((e) => e.flags.join('+'))

describe('decimal helpers', () => {
  it('subtracts exactly, without float drift', () => {
    expect(subtractDecimal('910.08', '910')).toBe('0.08')
    expect(subtractDecimal(0.3, 0.1)).toBe('0.2')
    expect(subtractDecimal('100000000.001', '99999999.999')).toBe('0.002')
    expect(subtractDecimal('1e-7', '0')).toBe('0.0000001')
    expect(compareDecimal('1.10', '1.1')).toBe(0)
  })
})

describe('deriveRegisterEnergy', () => {
  it('an increase is the difference to the previous reading; the first reading has no energy', () => {
    const d = deriveRegisterEnergy(pts('100', '100.25', '100.75', '100.75'))
    expect(kwh(d)).toEqual(['0', '0.25', '0.5', '0'])
    expect(flags(d)).toEqual(['first', '', '', ''])
  })

  it('a decrease is a reset: the energy is the register value (Prometheus increase())', () => {
    const d = deriveRegisterEnergy(pts('500', '501', '0.5', '1.5'))
    expect(kwh(d)).toEqual(['0', '1', '0.5', '1'])
    expect(flags(d)).toEqual(['first', '', 'reset', ''])
  })

  it('a drop that the next reading undoes is a placeholder: skipped, energy taken across it', () => {
    const d = deriveRegisterEnergy(pts('910', '0', '910.08', '910.2'))
    expect(kwh(d)).toEqual(['0', '0', '0.08', '0.12'])
    expect(flags(d)).toEqual(['first', 'placeholder', '', ''])
  })

  it('the next reading back exactly at the value before the drop also makes a placeholder', () => {
    expect(kwh(deriveRegisterEnergy(pts('910', '0', '910')))).toEqual(['0', '0', '0'])
  })

  it('a drop not undone by the next reading is a reset; the latest drop is a reset until undone', () => {
    expect(flags(deriveRegisterEnergy(pts('910', '0', '0.1')))).toEqual(['first', 'reset', ''])
    expect(flags(deriveRegisterEnergy(pts('910', '0')))).toEqual(['first', 'reset'])
    // two drops in a row: the first is not undone by its next reading, so it is a reset
    expect(flags(deriveRegisterEnergy(pts('910', '0', '0', '910.1')))).toEqual([
      'first',
      'reset',
      '',
      'suspect',
    ])
  })

  it('an increase above the power ceiling is suspect and counts 0', () => {
    // 7 kWh in one minute = 420 kW > 400 kW
    const d = deriveRegisterEnergy(pts('10', '17', '17.1'))
    expect(kwh(d)).toEqual(['0', '0', '0.1'])
    expect(flags(d)).toEqual(['first', 'suspect', ''])
    // exactly at the ceiling (6.6667 > 6.666…): 400 kW over one minute is 6.666… kWh
    expect(flags(deriveRegisterEnergy(pts('0', '6.6')))).toEqual(['first', ''])
    expect(flags(deriveRegisterEnergy(pts('0', '6.7')))).toEqual(['first', 'suspect'])
    // a configurable ceiling
    expect(flags(deriveRegisterEnergy(pts('0', '1'), { maxPowerKw: 50 }))).toEqual(['first', 'suspect'])
    // a reset to a large value in a minute is suspect too
    expect(flags(deriveRegisterEnergy(pts('900', '800')))).toEqual(['first', 'reset+suspect'])
  })

  it('the ceiling is measured over the time since the reading diffed against (across a placeholder)', () => {
    // 910 → 0 → 916: 6 kWh over 2 minutes = 180 kW, fine
    expect(kwh(deriveRegisterEnergy(pts('910', '0', '916')))).toEqual(['0', '0', '6'])
  })

  it('is local: each value depends only on the readings j-2 … j+1', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 6, maxLength: 20 }), (regs) => {
        const p = pts(...regs.map(String))
        const all = deriveRegisterEnergy(p)
        for (let j = 2; j < p.length - 1; j++) {
          const window = p.slice(j - 2, j + 2)
          // inside a window that is not the meter's start, index 2 is j (2 > 0, so never `first`)
          expect(deriveRegisterEnergyAt(window, 2)).toEqual(all[j])
        }
      }),
    )
  })
})

/** The writer's algorithm in memory: insert readings one at a time, recompute only the affected window. */
function incremental(order: RegisterPoint[], batches: number[]): Map<number, DerivedEnergy> {
  const stored: RegisterPoint[] = []
  const derived = new Map<number, DerivedEnergy>()
  let at = 0
  for (const size of batches) {
    const batch = order.slice(at, at + size)
    at += size
    for (const p of batch) {
      if (!stored.some((s) => s.tsMicros === p.tsMicros)) stored.push(p)
    }
    stored.sort((a, b) => a.tsMicros - b.tsMicros)
    for (const p of batch) {
      const k = stored.findIndex((s) => s.tsMicros === p.tsMicros)
      // the writer fetches 3 before and 3 after; derive on that window only
      const lo = Math.max(0, k - 3)
      const window = stored.slice(lo, k + 4)
      for (const d of AFFECTED_OFFSETS) {
        const j = k + d
        if (j < 0 || j >= stored.length) continue
        derived.set(stored[j]!.tsMicros, deriveRegisterEnergyAt(window, j - lo))
      }
    }
  }
  return derived
}

describe('late and repeated readings (the writer inserts them one batch at a time)', () => {
  const at = (minute: number, registerKwh: string): RegisterPoint => ({
    tsMicros: T0 + minute * MIN,
    registerKwh,
  })

  it('a late reading splits the interval it falls into; the total stays the same', () => {
    const before = incremental([at(0, '100'), at(10, '101'), at(20, '103')], [3])
    expect([...before.values()].map((e) => e.kwh)).toEqual(['0', '1', '2'])
    // minute 15 arrives after minute 20: 101 → 103 becomes 101 → 102.5 → 103
    const after = incremental([at(0, '100'), at(10, '101'), at(20, '103'), at(15, '102.5')], [3, 1])
    const byMinute = (m: number) => after.get(T0 + m * MIN)
    expect([0, 10, 15, 20].map((m) => byMinute(m)!.kwh)).toEqual(['0', '1', '1.5', '0.5'])
    expect([0, 10, 15, 20].map((m) => byMinute(m)!.flags)).toEqual([['first'], [], [], []])
  })

  it('a late reading before the first one takes the `first` flag over', () => {
    const got = incremental([at(10, '101'), at(20, '103'), at(0, '100')], [2, 1])
    expect(got.get(T0)).toEqual({ kwh: '0', flags: ['first'] })
    expect(got.get(T0 + 10 * MIN)).toEqual({ kwh: '1', flags: [] })
  })

  it('a late reading that undoes a drop turns the reset into a placeholder', () => {
    const got = incremental([at(0, '910'), at(10, '0'), at(20, '910.2'), at(15, '910.1')], [2, 1, 1])
    expect([0, 10, 15, 20].map((m) => got.get(T0 + m * MIN))).toEqual([
      { kwh: '0', flags: ['first'] },
      { kwh: '0', flags: ['placeholder'] },
      { kwh: '0.1', flags: [] },
      { kwh: '0.1', flags: [] },
    ])
  })

  it('a duplicate (same time, same value) changes nothing', () => {
    const once = incremental([at(0, '5'), at(1, '5.5'), at(2, '6')], [3])
    const twice = incremental([at(0, '5'), at(1, '5.5'), at(1, '5.5'), at(2, '6'), at(0, '5')], [2, 1, 2])
    expect(twice).toEqual(once)
  })
})

describe('order does not matter', () => {
  const readings = fc
    .array(
      fc.record({
        gapMin: fc.integer({ min: 1, max: 30 }),
        step: fc.oneof(
          fc.integer({ min: 0, max: 3000 }).map((n) => ({ kind: 'inc' as const, n })),
          fc.constant({ kind: 'zero' as const, n: 0 }),
          fc.integer({ min: 0, max: 500 }).map((n) => ({ kind: 'reset' as const, n })),
        ),
      }),
      { minLength: 1, maxLength: 25 },
    )
    .map((steps) => {
      let t = T0
      let reg = 1000
      return steps.map(({ gapMin, step }) => {
        t += gapMin * MIN
        if (step.kind === 'inc') reg += step.n / 1000
        else if (step.kind === 'zero') return { tsMicros: t, registerKwh: '0' }
        else reg = step.n / 100
        return { tsMicros: t, registerKwh: String(Math.round(reg * 1000) / 1000) }
      })
    })

  it('any arrival order, with duplicates, in any batches, gives the full derivation', () => {
    fc.assert(
      fc.property(
        readings.chain((r) =>
          fc.tuple(
            fc.constant(r),
            fc.shuffledSubarray([...r, ...r.slice(0, Math.ceil(r.length / 3))], {
              minLength: r.length + Math.ceil(r.length / 3),
            }),
            fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 60, maxLength: 60 }),
          ),
        ),
        ([sorted, order, batches]) => {
          const expected = deriveRegisterEnergy(sorted)
          const got = incremental(order, batches)
          expect(sorted.map((p) => got.get(p.tsMicros))).toEqual(expected)
        },
      ),
      { numRuns: 300 },
    )
  })
})
