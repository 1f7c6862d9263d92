import { decodeEnvelope, partitionForKey, topicNames, type MeterReading } from '@energy-ingest/contracts'
import { describe, expect, it } from 'vitest'
import { packRecords, type OutRecord } from './pack.js'

const topics = topicNames('p_')
const meter = (id: string, i = 0): OutRecord => ({
  kind: 'meter',
  key: id,
  value: { meterId: id, kwhConsumedAc: i, voltage: 230, timestamp: '2026-01-01T00:00:00.000Z' },
})
const base = { topics, partitionsOf: () => 12, maxPerMessage: 2, receivedAt: '2026-01-01T00:00:01.000Z' }

describe('packRecords', () => {
  const records = Array.from({ length: 40 }, (_, i) => meter(`M-${i % 10}`, i))

  it('packs the readings of one partition into messages keyed by one of their devices', () => {
    const r = packRecords(records, { ...base, packing: 'partition' })
    if (!r.ok) throw new Error('unexpected')
    expect(r.batch.map((t) => t.topic)).toEqual([topics.meter])
    const seen: number[] = []
    for (const m of r.batch[0]!.messages) {
      const decoded = decodeEnvelope(m.value as Buffer, '1')
      if (!decoded.ok || decoded.envelope.type !== 'meter') throw new Error('bad envelope')
      const readings: MeterReading[] = decoded.envelope.readings
      expect(readings.length).toBeLessThanOrEqual(2)
      for (const reading of readings) {
        expect(partitionForKey(reading.meterId, 12)).toBe(m.partition)
        seen.push(reading.kwhConsumedAc!)
      }
      expect(partitionForKey(m.key as string, 12)).toBe(m.partition)
      expect(m.headers).toEqual({ 'schema-version': '1' })
    }
    expect(seen.sort((a, b) => a - b)).toEqual(records.map((_, i) => i))
    // per-device arrival order is kept inside the partition's sequence of messages
    const order = r.batch[0]!.messages.flatMap((m) => {
      const d = decodeEnvelope(m.value as Buffer)
      return d.ok && d.envelope.type === 'meter' ? d.envelope.readings : []
    })
    const m3 = order.filter((x) => x.meterId === 'M-3').map((x) => x.kwhConsumedAc)
    expect(m3).toEqual([3, 13, 23, 33])
  })

  it('sends one message per reading with packing "none"', () => {
    const r = packRecords(records, { ...base, packing: 'none' })
    expect(r.ok && r.messages).toBe(40)
  })

  it('routes vehicles and assignments to their own topics', () => {
    const r = packRecords(
      [
        {
          kind: 'vehicle',
          key: 'V1',
          value: { vehicleId: 'V1', soc: 1, kwhDeliveredDc: 1, batteryTemp: 20, timestamp: 'x' },
        },
        {
          kind: 'assignment',
          key: 'V1',
          value: { vehicleId: 'V1', meterId: 'M1', validFrom: 'x', validTo: null },
        },
      ],
      { ...base, packing: 'partition' },
    )
    expect(r.ok && r.batch.map((t) => t.topic).sort()).toEqual([topics.assignments, topics.vehicle].sort())
  })

  it('refuses a topic whose partition count is unknown', () => {
    expect(
      packRecords([meter('M')], { ...base, partitionsOf: () => undefined, packing: 'partition' }),
    ).toEqual({
      ok: false,
      topic: topics.meter,
    })
  })
})
