import { parseTimestamp } from '@energy-ingest/contracts'
import { BadWindow } from './errors.js'
import type { Range } from './queries/window.js'

const DAY_MS = 86_400_000
const MINUTE_MS = 60_000

/**
 * The analysis window: by default the 24 h ending at the end of the current minute (now, when now is
 * a whole minute), so it holds every reading up to now and both its ends are whole minutes: a fleet
 * answer over it comes from rollups alone. `from`/`to` (RFC 3339 with a zone) override, a missing one
 * is taken 24 h from the other. `from` < `to`, at most `maxDays` apart.
 */
export function resolveWindow(query: { from?: string; to?: string }, nowMs: number, maxDays: number): Range {
  const parse = (field: 'from' | 'to') => {
    const raw = query[field]
    if (raw === undefined) return undefined
    const parsed = parseTimestamp(raw)
    if (!parsed.ok) throw new BadWindow(`${field}: ${parsed.reason}`)
    return parsed.value.epochMs
  }
  const fromQ = parse('from')
  const toQ = parse('to')
  const to = toQ ?? (fromQ !== undefined ? fromQ + DAY_MS : Math.ceil(nowMs / MINUTE_MS) * MINUTE_MS)
  const from = fromQ ?? to - DAY_MS
  if (!(from < to)) throw new BadWindow('from: must be before to')
  if (to - from > maxDays * DAY_MS) throw new BadWindow(`window: at most ${maxDays} days (from/to)`)
  return { from: new Date(from), to: new Date(to) }
}
