import { partitionForKey } from '@energy-ingest/contracts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import type { App } from '../../src/app.js'
import {
  TopicReader,
  deviceAuth,
  fleetAuth,
  freshTopics,
  gateway,
  iso,
  meterReading,
  vehicleReading,
} from './helpers.js'

const { kafkaBrokers: brokers } = inject('testenv')

describe('gateway → Kafka', () => {
  let app: App
  let reader: TopicReader
  let topics: Awaited<ReturnType<typeof freshTopics>>

  beforeAll(async () => {
    topics = await freshTopics(brokers)
    app = await gateway(brokers, topics.prefix)
    reader = await TopicReader.start(brokers, [topics.meter, topics.vehicle, topics.assignments])
  })
  afterAll(async () => {
    await reader?.stop()
    await app?.close()
  })

  it('publishes the seed payloads of both styles to their topics, keyed by device id', async () => {
    const now = iso(-120_000)
    const seeds = [
      {
        body: { type: 'meter', meterId: 'V1', kwhConsumedAc: 1.5, voltage: 230, timestamp: now },
        topic: topics.meter,
        id: 'V1',
      },
      {
        body: { meterId: 'METER-001', kwhConsumedAc: 0.75, voltage: 229.9, timestamp: now },
        topic: topics.meter,
        id: 'METER-001',
      },
      {
        body: {
          type: 'vehicle',
          vehicleId: 'V1',
          soc: 40,
          kwhDeliveredDc: 1.2,
          batteryTemp: 30,
          timestamp: now,
        },
        topic: topics.vehicle,
        id: 'V1',
      },
      {
        body: { vehicleId: 'VEH-002', soc: 81.5, kwhDeliveredDc: 0, batteryTemp: -5, timestamp: now },
        topic: topics.vehicle,
        id: 'VEH-002',
      },
    ]
    for (const seed of seeds) {
      const type = seed.topic === topics.meter ? 'meter' : 'vehicle'
      const res = await app.inject({
        method: 'POST',
        url: '/v1/ingest',
        headers: deviceAuth(type, seed.id),
        payload: seed.body,
      })
      expect(res.statusCode, res.body).toBe(202)
      expect(res.json()).toEqual({ type, deviceId: seed.id, timestamp: new Date(now).toISOString() })
    }
    await reader.waitFor(
      (r) => r.items(topics.meter).length + r.items(topics.vehicle).length >= 4,
      'four seeds',
    )
    for (const seed of seeds) {
      const idField = seed.topic === topics.meter ? 'meterId' : 'vehicleId'
      // Publishing is at-least-once: a producer retry on a slow broker may write a seed twice, never
      // a different one.
      const found = reader.items(seed.topic).filter((x) => x.item[idField] === seed.id)
      expect(found.length).toBeGreaterThanOrEqual(1)
      expect(new Set(found.map((x) => JSON.stringify(x.item))).size).toBe(1)
      const { type: _type, ...stored } = seed.body
      expect(found[0]!.item).toEqual({ ...stored, timestamp: new Date(now).toISOString() })
      expect(found[0]!.key).toBe(seed.id)
      expect(found[0]!.partition).toBe(partitionForKey(seed.id, 12))
    }
    expect(reader.received.every((r) => r.schemaVersion === '1')).toBe(true)
  })

  it('publishes exactly the valid items of a batch and lists the others', async () => {
    const batch = [
      meterReading('B-M1'),
      meterReading('B-M2', { voltage: 5000 }),
      vehicleReading('B-V1'),
      { meterId: 'B-M3', vehicleId: 'B-V3' },
      vehicleReading('B-V2', { soc: '55' }),
      meterReading('B-M4', { timestamp: '2026-01-01T00:00:00' }),
      meterReading('B-M5'),
    ]
    const res = await app.inject({
      method: 'POST',
      url: '/v1/ingest/batch',
      headers: fleetAuth,
      payload: batch,
    })
    expect(res.statusCode, res.body).toBe(202)
    const body = res.json<{ accepted: number; rejected: { index: number; issues: { field: string }[] }[] }>()
    expect(body.accepted).toBe(3)
    expect(body.rejected.map((r) => [r.index, r.issues[0]!.field])).toEqual([
      [1, 'voltage'],
      [3, 'body'],
      [4, 'soc'],
      [5, 'timestamp'],
    ])
    const ids = () =>
      [
        ...reader.items(topics.meter).map((x) => x.item.meterId),
        ...reader.items(topics.vehicle).map((x) => x.item.vehicleId),
      ].filter((id) => String(id).startsWith('B-'))
    // Every valid item, whichever partition it went to (B-M1 and B-M5 may be read in either order).
    for (const id of ['B-M1', 'B-M5', 'B-V1']) await reader.waitFor(() => ids().includes(id), id)
    // Distinct ids: a producer retry may publish an item twice (at-least-once), never a refused one.
    expect([...new Set(ids())].sort()).toEqual(['B-M1', 'B-M5', 'B-V1'])
  })

  it('accepts NDJSON batches, rejecting a malformed line as its item', async () => {
    const lines = [
      JSON.stringify(meterReading('N-M1')),
      '{not json',
      JSON.stringify(vehicleReading('N-V1')),
      '',
    ]
    const res = await app.inject({
      method: 'POST',
      url: '/v1/ingest/batch',
      headers: { ...fleetAuth, 'content-type': 'application/x-ndjson' },
      payload: lines.join('\n'),
    })
    expect(res.statusCode, res.body).toBe(202)
    expect(res.json()).toMatchObject({ accepted: 2, rejected: [{ index: 1 }] })
    await reader.waitFor(
      (r) =>
        r.items(topics.vehicle).some((x) => x.item.vehicleId === 'N-V1') &&
        r.items(topics.meter).some((x) => x.item.meterId === 'N-M1'),
      'NDJSON readings',
    )
  })

  it('packs a large batch into few messages, every device on its own partition', async () => {
    const batch = Array.from({ length: 3000 }, (_, i) =>
      meterReading(`P-${i % 300}`, { timestamp: iso(-3_600_000 + i) }),
    )
    const res = await app.inject({
      method: 'POST',
      url: '/v1/ingest/batch',
      headers: fleetAuth,
      payload: batch,
    })
    expect(res.statusCode, res.body).toBe(202)
    expect(res.json()).toEqual({ accepted: 3000, rejected: [] })
    const mine = () => reader.items(topics.meter).filter((x) => String(x.item.meterId).startsWith('P-'))
    await reader.waitFor(() => mine().length >= 3000, '3000 packed readings')
    expect(mine()).toHaveLength(3000)
    for (const x of mine()) expect(x.partition).toBe(partitionForKey(String(x.item.meterId), 12))
    const messages = reader.received.filter(
      (r) => r.envelope.type === 'meter' && r.envelope.readings.some((x) => x.meterId.startsWith('P-')),
    )
    expect(messages.length).toBeLessThan(100)
  })

  it('publishes assignments to fleet.assignments.v1, keyed by vehicle id; fleet tokens only', async () => {
    const assignment = { vehicleId: 'A-V1', meterId: 'A-M1', validFrom: '2026-01-01T00:00:00Z' }
    const denied = await app.inject({
      method: 'POST',
      url: '/v1/assignments',
      headers: deviceAuth('vehicle', 'A-V1'),
      payload: assignment,
    })
    expect(denied.statusCode).toBe(403)
    const res = await app.inject({
      method: 'POST',
      url: '/v1/assignments',
      headers: fleetAuth,
      payload: assignment,
    })
    expect(res.statusCode, res.body).toBe(202)
    await reader.waitFor((r) => r.items(topics.assignments).some((x) => x.key === 'A-V1'), 'assignment')
    const got = reader.items(topics.assignments).find((x) => x.key === 'A-V1')
    expect(got!.key).toBe('A-V1')
    expect(got!.item).toEqual({ ...assignment, validFrom: '2026-01-01T00:00:00.000Z', validTo: null })
  })

  it('forwards assignment bounds to the microsecond', async () => {
    const assignment = {
      vehicleId: 'A-V2',
      meterId: 'A-M2',
      validFrom: '2026-01-01T00:00:00.123456Z',
      validTo: '2026-01-01T01:00:00.123457+01:00',
    }
    const res = await app.inject({
      method: 'POST',
      url: '/v1/assignments',
      headers: fleetAuth,
      payload: assignment,
    })
    expect(res.statusCode, res.body).toBe(202)
    const stored = { ...assignment, validTo: '2026-01-01T00:00:00.123457Z' }
    expect(res.json()).toEqual(stored)
    await reader.waitFor((r) => r.items(topics.assignments).some((x) => x.item.vehicleId === 'A-V2'), 'A-V2')
    expect(reader.items(topics.assignments).find((x) => x.item.vehicleId === 'A-V2')!.item).toEqual(stored)
  })

  it('is ready, exports metrics and documents the routes', async () => {
    expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200)
    const ready = await app.inject({ url: '/health/ready' })
    expect(ready.statusCode, ready.body).toBe(200)
    const metrics = await app.inject({ url: '/metrics' })
    expect(metrics.body).toMatch(/gateway_readings_accepted_total\{type="meter"\} \d+/)
    expect(metrics.body).toContain('gateway_kafka_send_seconds_bucket')
    expect(metrics.body).toContain('gateway_readings_rejected_total{type="meter",reason="invalid"}')
    const docs = await app.inject({ url: '/docs/json' })
    expect(docs.statusCode).toBe(200)
    const spec = docs.json<{
      paths: Record<string, unknown>
      components: { schemas: Record<string, unknown> }
    }>()
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/v1/ingest', '/v1/ingest/batch', '/v1/assignments']),
    )
    expect(spec.components.schemas).toHaveProperty('MeterReading')
    expect(docs.body).toContain('interval')
    expect((await app.inject({ url: '/docs' })).statusCode).toBeLessThan(400)
  })
})
