import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { App } from '../../src/app.js'
import { TopicReader, fleetAuth, freshTopics, gateway } from './helpers.js'

const { kafkaBrokers: brokers } = inject('testenv')

/** A clock that reads whatever the test last set. */
function pinnedClock(iso: string) {
  let ms = Date.parse(iso)
  return { now: () => ms, set: (next: string) => (ms = Date.parse(next)) }
}

const reading = (meterId: string, timestamp: string) => ({
  meterId,
  kwhConsumedAc: 0.5,
  voltage: 230,
  timestamp,
})

describe('the gateway on an injected clock', () => {
  const clock = pinnedClock('2026-12-31T23:59:30Z')
  let app: App
  let reader: TopicReader
  let topics: Awaited<ReturnType<typeof freshTopics>>

  beforeAll(async () => {
    topics = await freshTopics(brokers)
    app = await gateway(brokers, topics.prefix, {}, { now: clock.now })
    reader = await TopicReader.start(brokers, [topics.meter])
  })
  afterAll(async () => {
    await reader?.stop()
    await app?.close()
  })

  const post = (body: object) =>
    app.inject({ method: 'POST', url: '/v1/ingest', headers: fleetAuth, payload: body })

  it('judges the future skew by that clock, across a new year', async () => {
    clock.set('2026-12-31T23:59:30Z')
    const near = await post(reading('CLK-1', '2027-01-01T00:04:00Z'))
    expect(near.statusCode, near.body).toBe(202)
    const far = await post(reading('CLK-2', '2027-01-01T00:06:00Z'))
    expect(far.statusCode, far.body).toBe(400)
    expect(far.json()).toMatchObject({ code: 'INGEST_INVALID_READING', details: [{ field: 'timestamp' }] })
    expect(far.json<{ message: string }>().message).toContain('future')
  })

  it('stamps receivedAt with that clock', async () => {
    clock.set('2026-12-31T23:59:30Z')
    expect((await post(reading('CLK-3', '2026-12-31T23:59:00Z'))).statusCode).toBe(202)
    await reader.waitFor((r) => r.items(topics.meter).some((x) => x.item.meterId === 'CLK-3'), 'CLK-3')
    const carrying = reader.received.filter(
      (r) => r.envelope.type === 'meter' && r.envelope.readings.some((x) => x.meterId === 'CLK-3'),
    )
    expect(carrying.map((r) => r.envelope.receivedAt)).toEqual(['2026-12-31T23:59:30.000Z'])
  })

  it('accepts a leap day on a leap day', async () => {
    clock.set('2028-02-29T12:00:00Z')
    const res = await post(reading('CLK-4', '2028-02-29T11:59:00Z'))
    expect(res.statusCode, res.body).toBe(202)
    expect(res.json()).toEqual({ type: 'meter', deviceId: 'CLK-4', timestamp: '2028-02-29T11:59:00.000Z' })
  })

  it('refuses readings the writer would expire, with the retention margin ahead of the clock', async () => {
    // HISTORY_RETENTION_MONTHS 13, margin 1 h: 30 s before 2027 the horizon is already 2025-12-01.
    clock.set('2026-12-31T23:59:30Z')
    const kept = await post(reading('CLK-5', '2025-12-01T00:00:00Z'))
    expect(kept.statusCode, kept.body).toBe(202)
    const expired = await post(reading('CLK-6', '2025-11-30T23:59:59.999Z'))
    expect(expired.statusCode, expired.body).toBe(400)
    expect(expired.json<{ message: string }>().message).toContain('2025-12-01T00:00:00.000Z')
  })
})
