import { describe, expect, it } from 'vitest'
import { cpuRatio, kafkaBound, type Run } from './gateway-figures.js'

const run = (target: Run['target'], cpuUsPerReading: Run['cpuUsPerReading']): Run => ({
  target,
  endpoint: 'single',
  readingsPerRequest: 1,
  requestsPerS: 1,
  readingsPerS: 1,
  p50Ms: 1,
  p99Ms: 1,
  non2xx: 0,
  errors: 0,
  cpuUsPerReading,
  busyShare: 1,
})

describe('kafkaBound', () => {
  it("is the bare run's CPU per reading over itself plus the broker's in the gateway run", () => {
    // Load tool 60 + bare route 50 = 110 µs; the broker spends 90 µs per reading: 110 / 200.
    const bare = run('bare', { bench: 60, bare: 50, kafka: 1 })
    const gateway = run('gateway', { bench: 60, gateway: 150, kafka: 90 })
    expect(kafkaBound(bare, gateway)).toBe(0.55)
  })

  it('is unknown without CPU figures (a stack this bench did not start)', () => {
    expect(kafkaBound(run('bare', {}), run('gateway', {}))).toBeNull()
    expect(kafkaBound(run('bare', { bench: 60, bare: 50 }), run('gateway', { gateway: 150 }))).toBeNull()
  })
})

describe('cpuRatio', () => {
  it("is the bare run's load tool + bare route over the run's load tool + own process + broker", () => {
    // Idle processes' CPU in a run (the gateway's while the floor is loaded) does not count.
    const bare = run('bare', { bench: 30, bare: 20, floor: 2, gateway: 2, kafka: 1 })
    const floor = run('floor', { bench: 30, floor: 50, gateway: 3, kafka: 45 })
    expect(cpuRatio(bare, floor)).toBe(0.4) // 50 / 125
    expect(cpuRatio(bare, run('gateway', { bench: 30, gateway: 70, kafka: 25 }))).toBe(0.4)
    expect(cpuRatio(bare, bare)).toBe(1)
  })

  it('is unknown without CPU figures', () => {
    expect(cpuRatio(run('bare', {}), run('floor', { bench: 1, floor: 1 }))).toBeNull()
    expect(cpuRatio(run('bare', { bench: 1, bare: 1 }), run('floor', { bench: 1 }))).toBeNull()
    expect(cpuRatio(undefined, run('floor', { bench: 1, floor: 1 }))).toBeNull()
  })
})
