import { retentionCutoff, type TimeRules } from '@energy-ingest/contracts'

/** The clock of the gateway, in epoch milliseconds; injectable so tests can pin it. */
export type Clock = () => number

export interface ReadingTimeOptions {
  now: Clock
  maxFutureSkewMs: number
  /** The writer's HISTORY_RETENTION_MONTHS. */
  retentionMonths: number
  /** The horizon is that of `now + retentionMarginMs`, so it cannot move past a reading on its way. */
  retentionMarginMs: number
}

/**
 * The time rules of a reading accepted now: at most `maxFutureSkewMs` ahead of the clock, and not
 * before the retention horizon the writer applies, the same function of the same setting, taken
 * `retentionMarginMs` ahead of the clock.
 */
export function readingTimeRules(opts: ReadingTimeOptions): TimeRules {
  const nowMs = opts.now()
  const horizon = retentionCutoff(new Date(nowMs + opts.retentionMarginMs), opts.retentionMonths)
  return { nowMs, maxFutureSkewMs: opts.maxFutureSkewMs, oldestAllowedMs: horizon.getTime() }
}
