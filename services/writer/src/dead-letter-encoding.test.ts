import { describe, expect, it } from 'vitest'
import { chunkByBytes, encodeDeadLetter, RECORD_OVERHEAD_BYTES } from './dead-letter-encoding.js'
import type { WriterDeadLetter } from './decode.js'
import { WriterErrorCode } from './errors.js'

const letter = (payload: unknown, extra: Partial<WriterDeadLetter> = {}): WriterDeadLetter => ({
  code: WriterErrorCode.UNDECODABLE,
  reason: 'not JSON',
  source: { topic: 'telemetry.meter.v1', partition: 3, offset: '42', key: 'M-1' },
  payload,
  failedAt: '2026-01-01T00:00:00.000Z',
  ...extra,
})

const LIMIT = 4096

describe('encodeDeadLetter', () => {
  it('leaves a letter that fits as it is', () => {
    const l = letter({ meterId: 'M-1', voltage: -5 }, { issues: [{ field: 'voltage', reason: 'too low' }] })
    const e = encodeDeadLetter(l, LIMIT)
    expect(JSON.parse(e.value)).toEqual(l)
    expect(e).toMatchObject({ key: 'M-1', truncated: false })
    expect(e.headers).toEqual({ 'schema-version': '1', 'dead-letter-code': l.code })
    expect(e.bytes).toBe(
      RECORD_OVERHEAD_BYTES +
        Buffer.byteLength(e.value) +
        'M-1'.length +
        Object.entries(e.headers).reduce((n, [k, v]) => n + k.length + v.length, 0),
    )
  })

  it.each([
    ['ASCII text', 'x'.repeat(100_000)],
    ['text that JSON escapes (quotes, control characters)', '"\u0001\\\n'.repeat(30_000)],
    ['multi-byte text with surrogate pairs', 'é€😀'.repeat(20_000)],
    ['an object', { readings: Array.from({ length: 2000 }, (_, i) => ({ meterId: `M-${i}`, voltage: -1 })) }],
  ])('truncates a payload too large (%s) and says so', (_name, payload) => {
    const e = encodeDeadLetter(letter(payload), LIMIT)
    expect(e.bytes).toBeLessThanOrEqual(LIMIT)
    expect(e.truncated).toBe(true)
    const out = JSON.parse(e.value) as WriterDeadLetter & { truncated: boolean; payloadBytes: number }
    const original = JSON.stringify(payload)
    expect(out).toMatchObject({
      code: WriterErrorCode.UNDECODABLE,
      reason: 'not JSON',
      source: { topic: 'telemetry.meter.v1', partition: 3, offset: '42', key: 'M-1' },
      truncated: true,
      payloadBytes: Buffer.byteLength(original),
    })
    expect(typeof out.payload).toBe('string')
    expect(original.startsWith(out.payload as string)).toBe(true)
    // Not cut much shorter than the room there was.
    expect(e.bytes).toBeGreaterThan(LIMIT - 16)
  })

  it('cuts a huge reason and source key when even an empty payload does not fit', () => {
    const l = letter('p'.repeat(10_000), {
      reason: 'r'.repeat(20_000),
      source: { topic: 't', partition: 0, offset: '1', key: 'k'.repeat(20_000) },
    })
    const e = encodeDeadLetter(l, LIMIT)
    expect(e.bytes).toBeLessThanOrEqual(LIMIT)
    const out = JSON.parse(e.value) as { reason: string; truncated: boolean; source: { key: string } }
    expect(out.truncated).toBe(true)
    expect(out.reason.startsWith('rrr')).toBe(true)
    expect(out.source.key.startsWith('kkk')).toBe(true)
  })
})

describe('chunkByBytes', () => {
  it('keeps the order and every record, each chunk within the limit', () => {
    const sizes = [100, 900, 50, 1000, 1000, 1, 700, 300, 999, 2]
    const chunks = chunkByBytes(
      sizes.map((bytes, i) => ({ bytes, i })),
      1000,
    )
    expect(chunks.flat().map((r) => r.i)).toEqual(sizes.map((_, i) => i))
    for (const c of chunks) expect(c.reduce((n, r) => n + r.bytes, 0)).toBeLessThanOrEqual(1000)
    expect(chunks.map((c) => c.map((r) => r.bytes))).toEqual([
      [100, 900],
      [50],
      [1000],
      [1000],
      [1, 700],
      [300],
      [999],
      [2],
    ])
  })

  it('returns no chunk for no record', () => {
    expect(chunkByBytes([], 1000)).toEqual([])
  })
})
