import { describe, expect, it } from 'vitest'
import { FixedWindowLimiter } from './fixed-window.js'

function limiter(maxKeys = 100) {
  let ms = Date.parse('2026-03-01T00:00:00Z')
  const l = new FixedWindowLimiter({ windowMs: 60_000, now: () => ms, maxKeys })
  return { l, advance: (by: number) => (ms += by) }
}

describe('FixedWindowLimiter', () => {
  it('counts requests per key and refuses past the limit, with the time left in the window', () => {
    const { l, advance } = limiter()
    expect(l.chargeRequest('a', 2)).toEqual({ ok: true })
    advance(15_000)
    expect(l.chargeRequest('a', 2)).toEqual({ ok: true })
    expect(l.chargeRequest('a', 2)).toEqual({ ok: false, budget: 'requests', limit: 2, retryAfterS: 45 })
    expect(l.chargeRequest('b', 2)).toEqual({ ok: true })
    advance(45_000)
    expect(l.chargeRequest('a', 2)).toEqual({ ok: true })
  })

  it('counts readings by their number, and does not count a refused charge', () => {
    const { l } = limiter()
    expect(l.chargeReadings('a', 5000, 6000)).toEqual({ ok: true })
    expect(l.chargeReadings('a', 5000, 6000)).toMatchObject({ ok: false, budget: 'readings', limit: 6000 })
    expect(l.chargeReadings('a', 1000, 6000)).toEqual({ ok: true })
    expect(l.chargeReadings('a', 1, 6000)).toMatchObject({ ok: false })
    // The request budget of the same key is apart.
    expect(l.chargeRequest('a', 1)).toEqual({ ok: true })
  })

  it('treats a limit of 0 as unlimited and tracks nothing for it', () => {
    const { l } = limiter()
    for (let i = 0; i < 10; i++) expect(l.chargeReadings('fleet', 5000, 0)).toEqual({ ok: true })
    expect(l.size).toBe(0)
  })

  it('starts a new window when the clock goes back', () => {
    const { l, advance } = limiter()
    expect(l.chargeRequest('a', 1)).toEqual({ ok: true })
    advance(-3_600_000)
    expect(l.chargeRequest('a', 1)).toEqual({ ok: true })
  })

  it('keeps at most maxKeys identities, sweeping expired windows first', () => {
    const { l, advance } = limiter(3)
    l.chargeRequest('a', 1)
    l.chargeRequest('b', 1)
    advance(61_000)
    l.chargeRequest('c', 1)
    l.chargeRequest('d', 1) // a and b expired: swept
    expect(l.size).toBe(2)
    l.chargeRequest('e', 1)
    l.chargeRequest('f', 1) // nothing expired: the oldest (c) goes
    expect(l.size).toBe(3)
    expect(l.chargeRequest('d', 1)).toMatchObject({ ok: false })
    expect(l.chargeRequest('c', 1)).toEqual({ ok: true })
  })
})
