import { TypeCompiler } from '@sinclair/typebox/compiler'
import { describe, expect, it } from 'vitest'
import {
  DeadLetterSchema,
  EnvelopeSchema,
  decodeEnvelope,
  encodeEnvelope,
  type Envelope,
} from './envelope.js'

const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v))
const meter = { meterId: 'M1', kwhConsumedAc: 1, voltage: 230, timestamp: '2026-01-01T00:00:00.000Z' }

describe('decodeEnvelope', () => {
  it('decodes what encodeEnvelope wrote, and the result is a valid Envelope', () => {
    const envelope: Envelope = {
      v: 1,
      type: 'meter',
      receivedAt: '2026-01-01T00:00:01.000Z',
      readings: [meter],
    }
    const r = decodeEnvelope(encodeEnvelope(envelope), '1')
    expect(r).toEqual({ ok: true, envelope })
    expect(TypeCompiler.Compile(EnvelopeSchema).Check(envelope)).toBe(true)
  })

  it('leaves the items to the consumer', () => {
    const r = decodeEnvelope(bytes({ v: 1, type: 'vehicle', receivedAt: 'x', readings: [{ junk: true }] }))
    expect(r.ok).toBe(true)
  })

  it.each([
    [bytes('{'), /^not JSON: /],
    [bytes([1]), /^not a JSON object$/],
    [bytes({ v: 2, type: 'meter', receivedAt: 'x', readings: [] }), /^unsupported envelope version 2$/],
    [bytes({ v: 1, type: 'gas', receivedAt: 'x', readings: [] }), /^unknown envelope type$/],
    [bytes({ v: 1, type: 'meter', readings: [] }), /^receivedAt missing$/],
    [bytes({ v: 1, type: 'meter', receivedAt: 'x', assignments: [] }), /^readings must be an array$/],
    [bytes({ v: 1, type: 'assignment', receivedAt: 'x', readings: [] }), /^assignments must be an array$/],
  ])('refuses a bad frame with one reason (%#)', (value, reason) => {
    const r = decodeEnvelope(value)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.reason).toMatch(reason)
  })

  it('refuses an unknown schema version and an empty message', () => {
    expect(decodeEnvelope(bytes({}), '2')).toEqual({ ok: false, reason: 'unknown schema version "2"' })
    expect(decodeEnvelope(null)).toEqual({ ok: false, reason: 'empty message' })
  })
})

describe('DeadLetterSchema', () => {
  it('describes what the writer publishes', () => {
    const letter = {
      reason: 'voltage: must be <= 1000',
      issues: [{ field: 'voltage', reason: 'must be <= 1000' }],
      source: { topic: 'telemetry.meter.v1', partition: 3, offset: '42', key: null },
      payload: { meterId: 'M1' },
      failedAt: '2026-01-01T00:00:00.000Z',
    }
    expect(TypeCompiler.Compile(DeadLetterSchema).Check(letter)).toBe(true)
    expect(TypeCompiler.Compile(DeadLetterSchema).Check({ ...letter, source: {} })).toBe(false)
  })
})
