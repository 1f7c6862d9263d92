import { retentionCutoff } from '@energy-ingest/contracts'
import { describe, expect, it } from 'vitest'
import { readingTimeRules } from './time-rules.js'

const at = (iso: string) => () => Date.parse(iso)
const rules = (now: string, marginMs = 3_600_000) =>
  readingTimeRules({
    now: at(now),
    maxFutureSkewMs: 300_000,
    retentionMonths: 13,
    retentionMarginMs: marginMs,
  })

describe('readingTimeRules', () => {
  it('reads the clock it is given', () => {
    expect(rules('2026-06-15T12:00:00Z')).toEqual({
      nowMs: Date.parse('2026-06-15T12:00:00Z'),
      maxFutureSkewMs: 300_000,
      oldestAllowedMs: Date.parse('2025-05-01T00:00:00Z'),
    })
  })

  it('takes the horizon of the month the margin reaches into', () => {
    // 30 s before a new month the writer's horizon is about to move on by a month: the gateway's already has.
    expect(rules('2026-12-31T23:59:30Z').oldestAllowedMs).toBe(Date.parse('2025-12-01T00:00:00Z'))
    expect(rules('2026-12-31T23:59:30Z', 0).oldestAllowedMs).toBe(Date.parse('2025-11-01T00:00:00Z'))
  })

  it('is never behind the horizon the writer applies to any receivedAt within the margin', () => {
    const margin = 3_600_000
    for (let t = Date.parse('2026-01-31T22:00:00Z'); t < Date.parse('2026-02-01T02:00:00Z'); t += 60_000) {
      const gateway = rules(new Date(t).toISOString(), margin).oldestAllowedMs!
      for (const delay of [0, 1, 3_000, margin]) {
        expect(gateway).toBeGreaterThanOrEqual(retentionCutoff(new Date(t + delay), 13).getTime())
      }
    }
  })
})
