// The gateway bench's floor must do the gateway's Kafka work, or the gateway / floor ratio means
// nothing: every reading it answers 202 for is on its topic, packed per partition, keyed and placed as
// the gateway places it.
import { partitionForKey, topicNames } from '@energy-ingest/contracts'
import { TopicReader, createTopics, testTopicPrefix } from '@energy-ingest/testenv'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { buildFloor } from '../../src/kafka-floor.js'

const { kafkaBrokers: brokers } = inject('testenv')
const PARTITIONS = 3

describe('the gateway bench floor', () => {
  const prefix = testTopicPrefix()
  const topics = topicNames(prefix)
  let floor: FastifyInstance
  let reader: TopicReader

  beforeAll(async () => {
    await createTopics(brokers, [topics.meter, topics.vehicle, topics.assignments], PARTITIONS)
    floor = await buildFloor({ KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC_PREFIX: prefix })
    await floor.ready()
    reader = await TopicReader.start(brokers, [topics.meter, topics.vehicle])
  })

  afterAll(async () => {
    await reader?.stop()
    await floor?.close()
  })

  it('acknowledges single and batch posts only once Kafka holds them, keyed per device', async () => {
    const meter = (id: string) => ({ meterId: id, timestamp: '2026-01-01T00:00:00.000Z', kwhConsumedAc: 1 })
    const vehicle = (id: string) => ({ vehicleId: id, timestamp: '2026-01-01T00:00:00.000Z', soc: 50 })
    const single = [meter('M-1'), vehicle('V-1')]
    const batch = [meter('M-2'), vehicle('V-2'), meter('M-3'), vehicle('V-3'), meter('M-4')]
    for (const body of single) {
      const res = await floor.inject({ method: 'POST', url: '/v1/ingest', payload: body })
      expect(res.statusCode, res.body).toBe(202)
    }
    const res = await floor.inject({ method: 'POST', url: '/v1/ingest/batch', payload: batch })
    expect(res.statusCode, res.body).toBe(202)
    expect(res.json()).toEqual({ accepted: 5, rejected: [] })

    const sent: Record<string, unknown>[] = [...single, ...batch]
    const received = () =>
      [topics.meter, topics.vehicle].flatMap((topic) => reader.items(topic).map((i) => ({ topic, ...i })))
    await reader.waitFor(
      () => received().length >= sent.length,
      'every acknowledged reading on its topic',
      30_000,
    )
    for (const body of sent) {
      const isMeter = 'meterId' in body
      const key = String(isMeter ? body.meterId : body.vehicleId)
      const where = received().filter((r) => JSON.stringify(r.item) === JSON.stringify(body))
      expect(where, key).toHaveLength(1)
      expect(where[0]!.topic).toBe(isMeter ? topics.meter : topics.vehicle)
      expect(where[0]!.partition).toBe(partitionForKey(key, PARTITIONS))
    }
    expect(received()).toHaveLength(sent.length)
    // A message holds one partition's readings: its key is one of its devices.
    for (const r of received()) expect(partitionForKey(r.key ?? '', PARTITIONS)).toBe(r.partition)
  })
})
