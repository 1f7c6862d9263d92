import { encodeEnvelope } from '@energy-ingest/contracts'
import { describe, expect, it } from 'vitest'
import { decodeBatch, type DecodeContext, type MessageLike } from './decode.js'

const ctx: DecodeContext = {
  topic: 'telemetry.meter.v1',
  partition: 3,
  retentionMonths: 8,
  maxFutureSkewMs: 300_000,
  now: () => new Date('2026-06-01T12:00:00Z'),
}
const receivedAt = '2026-06-01T12:00:00.000Z'
const meter = (id: string, ts: string) => ({ meterId: id, kwhConsumedAc: 1.5, voltage: 230.1, timestamp: ts })

const message = (offset: string, value: Buffer | null, key = 'M-1'): MessageLike => ({
  key: Buffer.from(key),
  value,
  offset,
  headers: { 'schema-version': Buffer.from('1') },
})

describe('decodeBatch', () => {
  it('turns an envelope of readings into rows with the receivedAt of the envelope', () => {
    const value = encodeEnvelope({
      v: 1,
      type: 'meter',
      receivedAt,
      readings: [meter('M-1', '2026-06-01T11:59:00+02:00'), meter('M-2', '2026-06-01T11:59:00Z')],
    })
    const out = decodeBatch('meter', [message('7', value)], ctx)
    expect(out.deadLetters).toEqual([])
    expect(out.messages).toEqual([
      {
        offset: '7',
        key: 'M-1',
        rows: [
          { ...meter('M-1', '2026-06-01T09:59:00.000Z'), receivedAt },
          { ...meter('M-2', '2026-06-01T11:59:00.000Z'), receivedAt },
        ],
      },
    ])
  })

  it('dead-letters an undecodable message with its origin, and goes on', () => {
    const good = encodeEnvelope({ v: 1, type: 'meter', receivedAt, readings: [meter('M-1', receivedAt)] })
    const out = decodeBatch('meter', [message('1', Buffer.from('{not json')), message('2', good)], ctx)
    expect(out.messages.map((m) => m.offset)).toEqual(['2'])
    expect(out.deadLetters).toHaveLength(1)
    expect(out.deadLetters[0]).toMatchObject({
      code: 'WRITER_UNDECODABLE_MESSAGE',
      source: { topic: 'telemetry.meter.v1', partition: 3, offset: '1', key: 'M-1' },
      payload: '{not json',
    })
    expect(out.deadLetters[0]!.reason).toContain('not JSON')
  })

  it('dead-letters only the invalid readings of an envelope', () => {
    const value = encodeEnvelope({
      v: 1,
      type: 'meter',
      receivedAt,
      readings: [
        meter('M-1', '2026-06-01T11:00:00Z'),
        { ...meter('M-2', '2026-06-01T11:00:00Z'), voltage: 5000 },
        meter('M-3', '2024-01-01T00:00:00Z'),
        meter('M-4', '2026-06-01T12:30:00Z'),
      ],
    })
    const out = decodeBatch('meter', [message('5', value)], ctx)
    expect(out.messages[0]!.rows.map((r) => r.meterId)).toEqual(['M-1'])
    expect(out.deadLetters.map((d) => [d.code, d.issues?.[0]?.field ?? d.reason])).toEqual([
      ['WRITER_INVALID_ITEM', 'voltage'],
      ['WRITER_READING_EXPIRED', 'older than the history retention'],
      ['WRITER_INVALID_ITEM', 'timestamp'],
    ])
  })

  it("judges expiry by the envelope's receivedAt, not by the writer's clock", () => {
    // Received in January, read in June (a backlog): the horizon is December, not May.
    const value = encodeEnvelope({
      v: 1,
      type: 'meter',
      receivedAt: '2026-01-15T00:00:00.000Z',
      readings: [meter('M-1', '2025-12-01T00:00:00Z'), meter('M-2', '2025-11-30T23:59:59.999Z')],
    })
    const out = decodeBatch('meter', [message('6', value)], { ...ctx, retentionMonths: 1 })
    expect(out.messages[0]!.rows.map((r) => r.meterId)).toEqual(['M-1'])
    expect(out.deadLetters.map((d) => [d.code, d.payload])).toEqual([
      ['WRITER_READING_EXPIRED', meter('M-2', '2025-11-30T23:59:59.999Z')],
    ])
  })

  it('refuses an envelope of another type, an unknown schema version and an empty value', () => {
    const vehicle = encodeEnvelope({
      v: 1,
      type: 'vehicle',
      receivedAt,
      readings: [{ vehicleId: 'V1', soc: 5, kwhDeliveredDc: 1, batteryTemp: 20, timestamp: receivedAt }],
    })
    const v2 = { ...message('2', vehicle), headers: { 'schema-version': '2' } }
    const out = decodeBatch('meter', [message('1', vehicle), v2, message('3', null)], ctx)
    expect(out.messages).toEqual([])
    expect(out.deadLetters.map((d) => d.code)).toEqual([
      'WRITER_WRONG_TOPIC',
      'WRITER_UNDECODABLE_MESSAGE',
      'WRITER_UNDECODABLE_MESSAGE',
    ])
  })

  it('validates assignments', () => {
    const value = encodeEnvelope({
      v: 1,
      type: 'assignment',
      receivedAt,
      assignments: [
        { vehicleId: 'V1', meterId: 'M1', validFrom: '2026-01-01T00:00:00Z' },
        {
          vehicleId: 'V1',
          meterId: 'M1',
          validFrom: '2026-01-01T00:00:00Z',
          validTo: '2025-01-01T00:00:00Z',
        },
      ],
    })
    const out = decodeBatch('assignment', [message('9', value, 'V1')], {
      ...ctx,
      topic: 'fleet.assignments.v1',
    })
    expect(out.messages[0]!.rows).toEqual([
      { vehicleId: 'V1', meterId: 'M1', validFrom: '2026-01-01T00:00:00.000Z', validTo: null },
    ])
    expect(out.deadLetters[0]!.issues?.[0]?.field).toBe('validTo')
  })
})
