// The gateway bench's floor must do the gateway's Kafka work, or the gateway / floor ratio means
// nothing: every reading it answers 202 for is on its topic, packed per partition, keyed and placed as
// the gateway places it.
import { decodeEnvelope, partitionForKey, topicNames, type Envelope } from '@energy-ingest/contracts'
import { createTopics, eventually, testTopicPrefix } from '@energy-ingest/testenv'
import type { FastifyInstance } from 'fastify'
import { Kafka, logLevel, type Consumer } from 'kafkajs'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { buildFloor } from '../../src/kafka-floor.js'

const { kafkaBrokers: brokers } = inject('testenv')
const PARTITIONS = 3

interface Seen {
  topic: string
  partition: number
  key: string
  ids: string[]
}

describe('the gateway bench floor', () => {
  const prefix = testTopicPrefix()
  const topics = topicNames(prefix)
  const seen: Seen[] = []
  let floor: FastifyInstance
  let consumer: Consumer

  beforeAll(async () => {
    await createTopics(brokers, [topics.meter, topics.vehicle, topics.assignments], PARTITIONS)
    floor = await buildFloor({ KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC_PREFIX: prefix })
    await floor.ready()
    const kafka = new Kafka({ clientId: 'floor-test', brokers, logLevel: logLevel.NOTHING })
    consumer = kafka.consumer({ groupId: `floor_${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 100 })
    await consumer.connect()
    await consumer.subscribe({ topics: [topics.meter, topics.vehicle], fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const decoded = decodeEnvelope(message.value)
        if (!decoded.ok) throw new Error(`undecodable message on ${topic}: ${decoded.reason}`)
        const envelope: Envelope = decoded.envelope
        const ids = envelope.type === 'assignment' ? [] : envelope.readings.map((r) => JSON.stringify(r))
        seen.push({ topic, partition, key: message.key?.toString() ?? '', ids })
      },
    })
  })

  afterAll(async () => {
    await consumer?.disconnect()
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
    await eventually(() => seen.flatMap((s) => s.ids).length >= sent.length, {
      timeoutMs: 30_000,
      message: 'every acknowledged reading on its topic',
    })
    for (const body of sent) {
      const isMeter = 'meterId' in body
      const key = String(isMeter ? body.meterId : body.vehicleId)
      const where = seen.filter((s) => s.ids.includes(JSON.stringify(body)))
      expect(where, key).toHaveLength(1)
      expect(where[0]!.topic).toBe(isMeter ? topics.meter : topics.vehicle)
      expect(where[0]!.partition).toBe(partitionForKey(key, PARTITIONS))
    }
    expect(seen.flatMap((s) => s.ids)).toHaveLength(sent.length)
    // A message holds one partition's readings: its key is one of its devices.
    for (const s of seen) expect(partitionForKey(s.key, PARTITIONS)).toBe(s.partition)
  })
})
