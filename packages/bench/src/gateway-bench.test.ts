import { describe, expect, it } from 'vitest'
import { kafkaBound, type Run } from './gateway-bench.js'

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
