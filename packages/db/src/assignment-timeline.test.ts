import { describe, expect, it } from 'vitest'
import { prng } from '@energy-ingest/testenv'
import { resolveTimeline, type SentAssignment } from './assignment-timeline.js'

const t = (d: number) => `2026-03-${String(d).padStart(2, '0')}T00:00:00.000000Z`
let seq = 0
const open = (meterId: string, from: number): SentAssignment => ({
  meterId,
  validFrom: t(from),
  validTo: null,
  seq: ++seq,
})
const bounded = (meterId: string, from: number, to: number): SentAssignment => ({
  meterId,
  validFrom: t(from),
  validTo: t(to),
  seq: ++seq,
})
const show = (sent: SentAssignment[]) =>
  resolveTimeline(sent).map(
    (i) => `${i.meterId} ${Number(i.from.slice(8, 10))}..${i.to === null ? '…' : Number(i.to.slice(8, 10))}`,
  )

describe('resolveTimeline', () => {
  it('ends an open assignment where the next open one begins, in time order whatever the seq', () => {
    expect(show([open('M2', 10), open('M1', 1)])).toEqual(['M1 1..10', 'M2 10..…'])
    expect(show([open('M1', 1), open('M2', 10)])).toEqual(['M1 1..10', 'M2 10..…'])
  })

  it('splits an open assignment around a later short one', () => {
    expect(show([open('M1', 1), bounded('M2', 5, 7)])).toEqual(['M1 1..5', 'M2 5..7', 'M1 7..…'])
  })

  it('lets an open assignment applied later cover short ones up to the next open start', () => {
    expect(show([bounded('M2', 5, 7), open('M3', 9), open('M1', 1)])).toEqual(['M1 1..9', 'M3 9..…'])
  })

  it('resolves overlapping bounded intervals by seq, exactly on the overlap', () => {
    expect(show([bounded('M1', 1, 10), bounded('M2', 8, 12)])).toEqual(['M1 1..8', 'M2 8..12'])
    expect(show([bounded('M2', 8, 12), bounded('M1', 1, 10)])).toEqual(['M1 1..10', 'M2 10..12'])
    expect(show([bounded('M1', 3, 4), bounded('M2', 1, 10)])).toEqual(['M2 1..10'])
  })

  it('keeps gaps between bounded intervals, and joins touching intervals of one meter', () => {
    expect(show([bounded('M1', 1, 3), bounded('M1', 5, 7)])).toEqual(['M1 1..3', 'M1 5..7'])
    expect(show([bounded('M1', 5, 7), bounded('M1', 1, 5), open('M1', 7)])).toEqual(['M1 1..…'])
  })

  it('never returns overlapping or empty intervals', () => {
    const random = prng(12345)
    const rand = (n: number) => Math.floor(random() * n)
    for (let run = 0; run < 500; run++) {
      const byFrom = new Map<number, SentAssignment>()
      for (let i = 0; i < 1 + rand(8); i++) {
        const from = 1 + rand(25)
        byFrom.set(
          from,
          rand(3) === 0 ? open(`M${rand(3)}`, from) : bounded(`M${rand(3)}`, from, from + 1 + rand(5)),
        )
      }
      const out = resolveTimeline([...byFrom.values()])
      for (let i = 0; i < out.length; i++) {
        const cur = out[i]!
        expect(cur.to === null || cur.from < cur.to).toBe(true)
        const next = out[i + 1]
        if (next) expect(cur.to !== null && cur.to <= next.from).toBe(true)
      }
      // Every instant covered by some assignment is covered by the timeline (it only changes meters).
      const covered = (d: string) => out.some((i) => i.from <= d && (i.to === null || d < i.to))
      for (const s of byFrom.values()) expect(covered(s.validFrom)).toBe(true)
    }
  })
})
