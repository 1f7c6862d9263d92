import { describe, expect, it } from 'vitest'
import { AlertsCache, type AlertList } from './alerts-cache.js'

const window = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-02T00:00:00Z') }
const list = (n: number): AlertList => ({ items: [], asOf: new Date(n) })

describe('AlertsCache', () => {
  it('computes once per window and threshold within the ttl, again after it', async () => {
    let now = 0
    let calls = 0
    const cache = new AlertsCache(1000, () => now)
    const compute = async () => list(++calls)
    expect((await cache.get(window, 0.85, compute)).asOf.getTime()).toBe(1)
    expect((await cache.get(window, 0.85, compute)).asOf.getTime()).toBe(1)
    expect((await cache.get(window, 0.9, compute)).asOf.getTime()).toBe(2)
    now = 1000
    expect((await cache.get(window, 0.85, compute)).asOf.getTime()).toBe(3)
  })

  it('does not keep a failed computation', async () => {
    const cache = new AlertsCache(60_000, () => 0)
    await expect(cache.get(window, 0.85, async () => Promise.reject(new Error('timeout')))).rejects.toThrow(
      'timeout',
    )
    expect((await cache.get(window, 0.85, async () => list(7))).asOf.getTime()).toBe(7)
  })
})
