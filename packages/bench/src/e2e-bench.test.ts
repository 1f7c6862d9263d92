import { describe, expect, it } from 'vitest'
import { pollGap } from './e2e-bench.js'

describe('pollGap', () => {
  it('polls every pollMs while the wait is short', () => {
    expect(pollGap(20, 0)).toBe(20)
    expect(pollGap(20, 999)).toBe(20)
  })

  it('backs off to 2 % of the wait so far, so a backlog is polled less often', () => {
    expect(pollGap(20, 10_000)).toBe(200)
    expect(pollGap(20, 30_000)).toBe(600)
  })
})
