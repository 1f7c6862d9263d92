import {
  createTopics,
  eventually,
  startPrivateKafka,
  testTopicPrefix,
  type KafkaServer,
} from '@energy-ingest/testenv'
import { topicNames } from '@energy-ingest/contracts'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { App } from '../../src/app.js'
import { TopicReader, fleetAuth, gateway, iso, meterReading } from './helpers.js'

// A hang detector, not a timing assertion: the configured bound is ~3 s (KAFKA_SEND_TIMEOUT_MS).
const HANG_MS = 20_000

async function settles<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`request still open after ${HANG_MS} ms`)), HANG_MS)
  })
  try {
    return await Promise.race([promise, hang])
  } finally {
    clearTimeout(timer)
  }
}

describe('broker outage (private broker)', () => {
  let kafka: KafkaServer
  let app: App
  const prefix = testTopicPrefix()
  const topics = topicNames(prefix)
  const acknowledged = new Set<string>()
  let seq = 0

  async function post(): Promise<number> {
    const id = `OUT-${seq++}`
    const res = await settles(
      app.inject({
        method: 'POST',
        url: '/v1/ingest',
        headers: fleetAuth,
        payload: meterReading(id, { timestamp: iso(-1000) }),
      }),
    )
    if (res.statusCode === 202) acknowledged.add(id)
    else {
      expect(res.statusCode, res.body).toBe(503)
      expect(res.headers['retry-after']).toBe('2')
      expect(res.json()).toMatchObject({
        code: expect.stringMatching(/^INGEST_(KAFKA_UNAVAILABLE|OVERLOADED)$/),
      })
    }
    return res.statusCode
  }

  beforeAll(async () => {
    // A local process or a container, like the shared environment (TESTENV).
    kafka = await startPrivateKafka(inject('testenv').mode, { partitions: 12 })
    await createTopics(kafka.brokers, [topics.meter, topics.vehicle, topics.assignments])
    app = await gateway(kafka.brokers, prefix)
  })
  afterAll(async () => {
    await app?.close()
    await kafka?.close()
  })

  it('answers 503 while the broker is down, recovers by itself, and keeps every 202', async () => {
    // A broker just started may take longer than the send bound to take a first reading on a loaded
    // machine (a 503 then, which post() checks): the outage starts from a gateway that has published.
    await eventually(async () => (await post()) === 202, {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: 'a first 202 from the fresh broker',
    })
    for (let i = 0; i < 20; i++) expect(await post()).toBe(202)

    // Traffic keeps flowing while the broker goes away: requests in flight at the stop may go either way.
    let load = true
    const background = (async () => {
      while (load) await Promise.all([post(), post(), post()])
    })()
    await kafka.stop()
    const during = await Promise.all(Array.from({ length: 10 }, () => post()))
    expect(during.every((s) => s === 503)).toBe(true)
    await eventually(async () => (await app.inject({ url: '/health/ready' })).statusCode === 503, {
      message: 'not ready while the broker is down',
    })
    expect(await post()).toBe(503)

    await kafka.start()
    await eventually(async () => (await post()) === 202, {
      timeoutMs: 30_000,
      intervalMs: 200,
      message: 'a 202 after restart',
    })
    load = false
    await background
    for (let i = 0; i < 20; i++) expect(await post()).toBe(202)
    await eventually(async () => (await app.inject({ url: '/health/ready' })).statusCode === 200, {
      message: 'ready again',
    })

    const reader = await TopicReader.start(kafka.brokers, [topics.meter])
    try {
      const present = () => new Set(reader.items(topics.meter).map((x) => String(x.item.meterId)))
      await reader
        .waitFor(
          () => [...acknowledged].every((id) => present().has(id)),
          'every acknowledged reading',
          20_000,
        )
        .catch(() => undefined)
      const missing = [...acknowledged].filter((id) => !present().has(id))
      expect(
        missing,
        `${missing.length} of ${acknowledged.size} missing; ${reader.received.length} messages read`,
      ).toEqual([])
      expect(acknowledged.size).toBeGreaterThanOrEqual(41)
    } finally {
      await reader.stop()
    }
  })
})
