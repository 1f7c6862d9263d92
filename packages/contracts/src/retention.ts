// The history retention horizon, shared by whoever must agree on it: the writer drops month partitions
// and dead-letters readings past it, and the gateway refuses readings the writer would expire.

/**
 * Start of the oldest month kept under a retention of `retentionMonths`: the current UTC month of
 * `now` and the `retentionMonths` months before it are kept; anything before this instant expires.
 */
export function retentionCutoff(now: Date, retentionMonths: number): Date {
  if (!Number.isInteger(retentionMonths) || retentionMonths < 1) {
    throw new RangeError('retentionMonths must be an integer >= 1')
  }
  const ms = now.getTime()
  if (Number.isNaN(ms)) throw new RangeError('retentionCutoff: invalid date')
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - retentionMonths, 1))
}
