// A vehicle's timeline (which meter it charges from, when) from the assignments sent for it. Pure: the
// database side (assignments.ts) reads the sent assignments and stores the result.
//
// Instants are fixed-width UTC text ('2026-03-01T00:00:00.000000Z'), so they compare as strings,
// exactly to the microsecond.

export interface SentAssignment {
  meterId: string
  validFrom: string
  /** null: open. */
  validTo: string | null
  /** Order of application (Kafka order); unique per vehicle. */
  seq: number
}

export interface TimelineInterval {
  meterId: string
  from: string
  /** null: for ever. */
  to: string | null
}

/** Compares two instants, `null` being the end of time. */
function before(a: string | null, b: string | null): boolean {
  if (a === null) return false
  return b === null || a < b
}

/**
 * The rules (packages/db/README.md, "Assignments"):
 * - a bounded assignment covers [validFrom, validTo); an open one covers [validFrom, the validFrom of
 *   the vehicle's next open assignment in time), or for ever;
 * - assignments are applied in `seq` order, each taking its whole extent: where extents overlap the later
 *   one wins, exactly on the overlap (an earlier interval is trimmed, or split around it and resumes);
 * - neighbouring intervals of one meter are joined.
 * `sent` holds one assignment per validFrom (a later one with the same key replaces it before this).
 */
export function resolveTimeline(sent: readonly SentAssignment[]): TimelineInterval[] {
  const openStarts = sent
    .filter((s) => s.validTo === null)
    .map((s) => s.validFrom)
    .sort()
  const extentEnd = (s: SentAssignment) => s.validTo ?? openStarts.find((f) => f > s.validFrom) ?? null

  let timeline: TimelineInterval[] = []
  for (const s of [...sent].sort((a, b) => a.seq - b.seq)) {
    const from = s.validFrom
    const to = extentEnd(s)
    const next: TimelineInterval[] = []
    for (const piece of timeline) {
      const overlaps = before(piece.from, to) && before(from, piece.to)
      if (!overlaps) {
        next.push(piece)
        continue
      }
      if (piece.from < from) next.push({ ...piece, to: from })
      if (before(to, piece.to)) next.push({ ...piece, from: to! })
    }
    next.push({ meterId: s.meterId, from, to })
    timeline = next.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0))
  }

  const joined: TimelineInterval[] = []
  for (const piece of timeline) {
    const last = joined[joined.length - 1]
    if (last !== undefined && last.meterId === piece.meterId && last.to === piece.from) last.to = piece.to
    else joined.push({ ...piece })
  }
  return joined
}
