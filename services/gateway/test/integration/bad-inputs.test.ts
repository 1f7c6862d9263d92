import { encodeEnvelope } from '@energy-ingest/contracts'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { App } from '../../src/app.js'
import { meterAuth, readingCases, requestCases } from './bad-input-cases.js'
import {
  TopicReader,
  deviceAuth,
  fleetAuth,
  freshTopics,
  gateway,
  meterReading,
  rawProducer,
  vehicleReading,
} from './helpers.js'

const { kafkaBrokers: brokers } = inject('testenv')

const json = { 'content-type': 'application/json' }
const cases = [...readingCases, ...requestCases]

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
    expect(body.code).toBe(`INGEST_${c.code}`)
    expect(body.statusCode).toBe(c.status)
    const named = body.message.includes(c.field) || (body.details ?? []).some((d) => d.field === c.field)
    expect(named, `${c.field} not named in ${res.body}`).toBe(true)
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
      const ids = [topics.meter, topics.vehicle].flatMap((topic) =>
        reader.items(topic).map((x) => `${topic}/${String(x.item.meterId ?? x.item.vehicleId)}`),
      )
      expect(ids.filter((id) => !id.includes('/SENTINEL-'))).toEqual([])
      // Every sentinel arrived. A producer retry can write one twice (a failed Kafka send can still
      // have written part of its batch), so they are counted as distinct (topic, id) pairs.
      expect(new Set(ids).size).toBe(24)
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
      // Another spelling of the scheme is the same token, already limited.
      const respelled = { authorization: meterAuth.authorization.replace('Bearer', 'bearer') }
      expect((await post(respelled)).statusCode).toBe(429)
    } finally {
      await app.close()
    }
  })

  it('counts the readings of a batch against the token, not the batch as one', async () => {
    const topics = await freshTopics(brokers)
    const app = await gateway(brokers, topics.prefix, { RATE_LIMIT_READINGS_MAX: '6000' })
    try {
      const post = (count: number) =>
        app.inject({
          method: 'POST',
          url: '/v1/ingest/batch',
          headers: { ...json, ...meterAuth },
          payload: JSON.stringify(Array.from({ length: count }, () => meterReading('METER-001'))),
        })
      const first = await post(5000)
      expect(first.statusCode, first.body).toBe(202)
      const second = await post(5000)
      expect(second.statusCode, second.body).toBe(429)
      expect(Number(second.headers['retry-after'])).toBeGreaterThan(0)
      expect(second.json()).toMatchObject({ code: 'INGEST_RATE_LIMITED' })
      expect(second.json<{ message: string }>().message).toContain('6000 readings per 60000 ms')
      expect((await post(1000)).statusCode).toBe(202)
      expect((await post(1)).statusCode).toBe(429)
    } finally {
      await app.close()
    }
  })
})
