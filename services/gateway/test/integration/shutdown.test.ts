import { eventually } from '@energy-ingest/testenv'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { TopicReader, fleetAuth, freshTopics, gateway, meterReading } from './helpers.js'

const { kafkaBrokers: brokers } = inject('testenv')

describe('graceful shutdown', () => {
  let topics: Awaited<ReturnType<typeof freshTopics>>
  let reader: TopicReader

  beforeAll(async () => {
    topics = await freshTopics(brokers)
    reader = await TopicReader.start(brokers, [topics.meter])
  })
  afterAll(async () => {
    await reader?.stop()
  })

  it('flushes what is waiting before it disconnects', async () => {
    // A long linger keeps the readings waiting in the batcher when close() begins.
    const app = await gateway(brokers, topics.prefix, { KAFKA_LINGER_MS: '60000' })
    const ids = Array.from({ length: 5 }, (_, i) => `SHUT-${i}`)
    const waiting = ids.map((id) =>
      app.inject({ method: 'POST', url: '/v1/ingest', headers: fleetAuth, payload: meterReading(id) }),
    )
    await eventually(() => app.publisher.pending() === ids.length, {
      message: 'readings waiting in the batcher',
    })
    await app.close()
    const answers = await Promise.all(waiting)
    expect(answers.map((r) => r.statusCode)).toEqual([202, 202, 202, 202, 202])
    await reader.waitFor(
      (r) => ids.every((id) => r.items(topics.meter).some((x) => x.item.meterId === id)),
      'the flushed readings',
    )
  })
})
