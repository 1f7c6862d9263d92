import { encodeEnvelope } from '@energy-ingest/contracts'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { App } from '../../src/app.js'
import {
  TopicReader,
  deviceAuth,
  fleetAuth,
  freshTopics,
  gateway,
  iso,
  meterReading,
  rawProducer,
  vehicleReading,
} from './helpers.js'

const { kafkaBrokers: brokers } = inject('testenv')

interface Case {
  name: string
  status: number
  code: string
  url?: string
  headers?: Record<string, string>
  /** An object is sent as JSON; a string is sent as is. */
  payload?: unknown
  /** The message or a detail names this field. */
  field?: string
}

const json = { 'content-type': 'application/json' }
const meterAuth = deviceAuth('meter', 'METER-001')
const m = meterReading('METER-001')
const v = vehicleReading('VEH-1')
const { timestamp: _t, ...noTimestamp } = m
const { voltage: _v, ...noVoltage } = m
const raw = (text: string) => text

const cases: Case[] = [
  {
    name: 'missing timestamp',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: noTimestamp,
    field: 'timestamp',
  },
  {
    name: 'missing voltage',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: noVoltage,
    field: 'voltage',
  },
  {
    name: 'unknown extra field',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { ...m, phase: 3 },
    field: 'phase',
  },
  {
    name: 'string for a number',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { ...m, voltage: '230' },
    field: 'voltage',
  },
  {
    name: '"NaN" string',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { ...m, kwhConsumedAc: 'NaN' },
    field: 'kwhConsumedAc',
  },
  {
    name: 'boolean for a number',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { ...m, voltage: true },
    field: 'voltage',
  },
  {
    name: 'null for a number',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { ...m, voltage: null },
    field: 'voltage',
  },
  {
    name: '1e400 (Infinity)',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: raw(JSON.stringify(m).replace('231.4', '1e400')),
    field: 'voltage',
  },
  {
    name: 'NaN literal',
    status: 400,
    code: 'INGEST_MALFORMED_JSON',
    payload: raw(JSON.stringify(m).replace('231.4', 'NaN')),
    field: 'body',
  },
  {
    name: 'negative energy',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { ...m, kwhConsumedAc: -0.5 },
    field: 'kwhConsumedAc',
  },
  {
    name: 'voltage above 1000',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { ...m, voltage: 1000.5 },
    field: 'voltage',
  },
  {
    name: 'soc above 100',
    status: 400,
    code: 'INGEST_INVALID_READING',
    headers: deviceAuth('vehicle', 'VEH-1'),
    payload: { ...v, soc: 100.1 },
    field: 'soc',
  },
  {
    name: 'battery below -60',
    status: 400,
    code: 'INGEST_INVALID_READING',
    headers: deviceAuth('vehicle', 'VEH-1'),
    payload: { ...v, batteryTemp: -61 },
    field: 'batteryTemp',
  },
  {
    name: 'both ids',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { ...m, vehicleId: 'VEH-1' },
    field: 'body',
  },
  {
    name: 'no id',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { kwhConsumedAc: 1, voltage: 230, timestamp: iso() },
    field: 'body',
  },
  {
    name: 'unknown type',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { ...m, type: 'car' },
    field: 'type',
  },
  {
    name: 'type contradicts the id field',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { ...v, type: 'meter' },
    field: 'meterId',
  },
  {
    name: 'zone-less timestamp',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { ...m, timestamp: '2026-01-01T00:00:00' },
    field: 'timestamp',
  },
  {
    name: 'impossible date',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { ...m, timestamp: '2026-02-30T00:00:00Z' },
    field: 'timestamp',
  },
  {
    name: 'future timestamp',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { ...m, timestamp: iso(3_600_000) },
    field: 'timestamp',
  },
  {
    name: 'past the retention horizon',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { ...m, timestamp: '2001-01-01T00:00:00Z' },
    field: 'timestamp',
  },
  {
    name: 'numeric timestamp',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: { ...m, timestamp: Date.now() },
    field: 'timestamp',
  },
  {
    name: 'over-long id',
    status: 400,
    code: 'INGEST_INVALID_READING',
    headers: fleetAuth,
    payload: { ...m, meterId: 'M'.repeat(65) },
    field: 'meterId',
  },
  {
    name: 'id with a space',
    status: 400,
    code: 'INGEST_INVALID_READING',
    headers: fleetAuth,
    payload: { ...m, meterId: 'METER 001' },
    field: 'meterId',
  },
  {
    name: 'empty id',
    status: 400,
    code: 'INGEST_INVALID_READING',
    headers: fleetAuth,
    payload: { ...m, meterId: '' },
    field: 'meterId',
  },
  { name: 'null body', status: 400, code: 'INGEST_INVALID_READING', payload: raw('null'), field: 'body' },
  {
    name: 'array to the single route',
    status: 400,
    code: 'INGEST_INVALID_READING',
    payload: [m],
    field: 'body',
  },
  {
    name: '__proto__ key',
    status: 400,
    code: 'INGEST_MALFORMED_JSON',
    payload: raw('{"__proto__":{"x":1},"meterId":"METER-001"}'),
    field: 'body',
  },
  {
    name: 'malformed JSON',
    status: 400,
    code: 'INGEST_MALFORMED_JSON',
    payload: raw('{"meterId": "METER-001",'),
    field: 'body',
  },
  { name: 'empty JSON body', status: 400, code: 'INGEST_EMPTY_BODY', payload: raw(''), field: 'body' },
  {
    name: 'text/plain',
    status: 415,
    code: 'INGEST_UNSUPPORTED_MEDIA_TYPE',
    headers: { 'content-type': 'text/plain' },
    payload: raw(JSON.stringify(m)),
    field: 'content-type',
  },
  {
    name: 'application/xml',
    status: 415,
    code: 'INGEST_UNSUPPORTED_MEDIA_TYPE',
    headers: { 'content-type': 'application/xml' },
    payload: raw('<m/>'),
    field: 'content-type',
  },
  {
    name: 'NDJSON to the single route',
    status: 415,
    code: 'INGEST_UNSUPPORTED_MEDIA_TYPE',
    headers: { 'content-type': 'application/x-ndjson' },
    payload: raw(JSON.stringify(m)),
    field: 'content-type',
  },
  {
    name: 'oversize body',
    status: 413,
    code: 'INGEST_BODY_TOO_LARGE',
    payload: { ...m, pad: 'x'.repeat(20_000) },
    field: 'body',
  },
  {
    name: 'no token',
    status: 401,
    code: 'INGEST_UNAUTHORIZED',
    headers: { authorization: '' },
    payload: m,
    field: 'authorization',
  },
  {
    name: 'garbage token',
    status: 401,
    code: 'INGEST_UNAUTHORIZED',
    headers: { authorization: 'Bearer nope' },
    payload: m,
    field: 'authorization',
  },
  {
    name: 'Basic scheme',
    status: 401,
    code: 'INGEST_UNAUTHORIZED',
    headers: { authorization: 'Basic Zm9vOmJhcg==' },
    payload: m,
    field: 'authorization',
  },
  {
    name: 'another device token',
    status: 403,
    code: 'INGEST_DEVICE_FORBIDDEN',
    headers: deviceAuth('meter', 'METER-002'),
    payload: m,
    field: 'authorization',
  },
  {
    name: 'token of the id under the other type',
    status: 403,
    code: 'INGEST_DEVICE_FORBIDDEN',
    headers: deviceAuth('vehicle', 'METER-001'),
    payload: m,
    field: 'authorization',
  },
  {
    name: 'batch: not an array',
    status: 400,
    code: 'INGEST_BATCH_NOT_ARRAY',
    url: '/v1/ingest/batch',
    headers: fleetAuth,
    payload: m,
    field: 'body',
  },
  {
    name: 'batch: empty',
    status: 400,
    code: 'INGEST_BATCH_ALL_REJECTED',
    url: '/v1/ingest/batch',
    headers: fleetAuth,
    payload: [],
    field: 'body',
  },
  {
    name: 'batch: nothing valid',
    status: 400,
    code: 'INGEST_BATCH_ALL_REJECTED',
    url: '/v1/ingest/batch',
    headers: fleetAuth,
    payload: [{ ...m, voltage: -1 }, { x: 1 }],
    field: 'body/0/voltage',
  },
  {
    name: 'batch: too many items',
    status: 413,
    code: 'INGEST_BATCH_TOO_MANY_ITEMS',
    url: '/v1/ingest/batch',
    headers: fleetAuth,
    payload: Array.from({ length: 5001 }, () => m),
    field: 'body',
  },
  {
    name: 'batch: a foreign reading under a device token',
    status: 403,
    code: 'INGEST_DEVICE_FORBIDDEN',
    url: '/v1/ingest/batch',
    headers: meterAuth,
    payload: [m, meterReading('METER-002')],
    field: 'authorization',
  },
  {
    name: 'batch: text/plain',
    status: 415,
    code: 'INGEST_UNSUPPORTED_MEDIA_TYPE',
    url: '/v1/ingest/batch',
    headers: { ...fleetAuth, 'content-type': 'text/plain' },
    payload: raw('[]'),
    field: 'content-type',
  },
  {
    name: 'assignment ending before it starts',
    status: 400,
    code: 'INGEST_INVALID_ASSIGNMENT',
    url: '/v1/assignments',
    headers: fleetAuth,
    payload: {
      vehicleId: 'V1',
      meterId: 'M1',
      validFrom: '2026-02-01T00:00:00Z',
      validTo: '2026-01-01T00:00:00Z',
    },
    field: 'validTo',
  },
]

describe('bad input', () => {
  let app: App
  let topics: Awaited<ReturnType<typeof freshTopics>>

  beforeAll(async () => {
    topics = await freshTopics(brokers)
    app = await gateway(brokers, topics.prefix)
  })
  afterAll(async () => {
    await app?.close()
  })

  it(`has a table of at least 25 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(25)
  })

  it.each(cases)('$name → $status $code', async (c) => {
    const payload = typeof c.payload === 'string' ? c.payload : JSON.stringify(c.payload)
    const res = await app.inject({
      method: 'POST',
      url: c.url ?? '/v1/ingest',
      headers: { ...json, ...meterAuth, ...c.headers },
      payload,
    })
    expect(res.statusCode, res.body).toBe(c.status)
    const body = res.json<{
      statusCode: number
      code: string
      message: string
      details?: { field: string }[]
    }>()
    expect(body.code).toBe(c.code)
    expect(body.statusCode).toBe(c.status)
    if (c.field !== undefined) {
      const named = body.message.includes(c.field) || (body.details ?? []).some((d) => d.field === c.field)
      expect(named, `${c.field} not named in ${res.body}`).toBe(true)
    }
  })

  it('published none of them', async () => {
    // A sentinel on every partition of both topics, produced after the last request answered:
    // once all are read, anything the bad requests had published would have been read too.
    const producer = await rawProducer(brokers)
    const reader = await TopicReader.start(brokers, [topics.meter, topics.vehicle])
    try {
      const receivedAt = new Date().toISOString()
      for (const topic of [topics.meter, topics.vehicle]) {
        await producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length: 12 }, (_, partition) => ({
            partition,
            key: `SENTINEL-${partition}`,
            value: encodeEnvelope(
              topic === topics.meter
                ? { v: 1, type: 'meter', receivedAt, readings: [meterReading(`SENTINEL-${partition}`)] }
                : { v: 1, type: 'vehicle', receivedAt, readings: [vehicleReading(`SENTINEL-${partition}`)] },
            ),
          })),
        })
      }
      await reader.waitFor((r) => r.received.length >= 24, '24 sentinels')
      const items = [...reader.items(topics.meter), ...reader.items(topics.vehicle)]
      expect(
        items
          .map((x) => String(x.item.meterId ?? x.item.vehicleId))
          .filter((id) => !id.startsWith('SENTINEL-')),
      ).toEqual([])
      expect(items).toHaveLength(24)
    } finally {
      await reader.stop()
      await producer.disconnect()
    }
  })
})

describe('rate limit', () => {
  it('answers 429 past the per-token limit and keeps other tokens apart', async () => {
    const topics = await freshTopics(brokers)
    const app = await gateway(brokers, topics.prefix, { RATE_LIMIT_MAX: '2' })
    try {
      const post = (headers: Record<string, string>) =>
        app.inject({
          method: 'POST',
          url: '/v1/ingest',
          headers: { ...json, ...headers },
          payload: JSON.stringify({ meterId: 'METER-001' }),
        })
      expect((await post(meterAuth)).statusCode).toBe(400)
      expect((await post(meterAuth)).statusCode).toBe(400)
      const limited = await post(meterAuth)
      expect(limited.statusCode).toBe(429)
      expect(limited.json()).toMatchObject({ code: 'INGEST_RATE_LIMITED' })
      expect(limited.headers['retry-after']).toBeDefined()
      expect((await post(deviceAuth('meter', 'METER-002'))).statusCode).toBe(400)
      expect((await post(fleetAuth)).statusCode).toBe(400)
    } finally {
      await app.close()
    }
  })
})
