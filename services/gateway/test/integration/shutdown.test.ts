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
    // A long linger: once a send is in flight, the readings behind it wait in the batcher.
    const app = await gateway(brokers, topics.prefix, { KAFKA_LINGER_MS: '60000' })
    const ids = Array.from({ length: 5 }, (_, i) => `SHUT-${i}`)
    // close() starts right after the fifth reading is handed to the publisher, in the same turn: the
    // first is in flight (it went at once) and the other four wait behind it.
    let allHanded!: () => void
    const handed = new Promise<void>((resolve) => (allHanded = resolve))
    const { publisher } = app
    const publish = publisher.publish.bind(publisher)
    let count = 0
    publisher.publish = (records) => {
      const sent = publish(records)
      if (++count === ids.length) allHanded()
      return sent
    }
    const waiting = ids.map((id) =>
      app.inject({ method: 'POST', url: '/v1/ingest', headers: fleetAuth, payload: meterReading(id) }),
    )
    await handed
    expect(publisher.pending()).toBe(ids.length)
    await app.close()
    const answers = await Promise.all(waiting)
    expect(answers.map((r) => r.statusCode)).toEqual([202, 202, 202, 202, 202])
    await reader.waitFor(
      (r) => ids.every((id) => r.items(topics.meter).some((x) => x.item.meterId === id)),
      'the flushed readings',
    )
  })
})
