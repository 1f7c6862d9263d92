import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { describe, expect, inject, it } from 'vitest'
import { createTestDatabase, createTopics, eventually, testTopicPrefix, uniqueName } from '../../src/index.js'

const env = inject('testenv')

describe('the shared test environment', () => {
  it('produces and consumes through a consumer group on the real broker', async () => {
    const topic = `${testTopicPrefix()}roundtrip`
    await createTopics(env.kafkaBrokers, [topic], 3)
    const kafka = new Kafka({ clientId: 'env-test', brokers: env.kafkaBrokers, logLevel: logLevel.WARN })
    const producer = kafka.producer()
    const groupId = uniqueName('g')
    const consumer = kafka.consumer({ groupId })
    try {
      await producer.connect()
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 5}`, value: String(i) })),
      })
      await consumer.connect()
      await consumer.subscribe({ topic, fromBeginning: true })
      const seen: number[] = []
      await consumer.run({
        eachMessage: async ({ message }) => void seen.push(Number(message.value?.toString())),
      })
      // Distinct values: delivery is at-least-once, and a consumer that restarts (a fresh broker's
      // group coordinator answers "loading" at first) may see a message again.
      await eventually(() => new Set(seen).size >= 30, { timeoutMs: 30_000, message: '30 messages consumed' })
      expect([...new Set(seen)].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i))
      const admin = kafka.admin()
      await admin.connect()
      try {
        // The group committed its position: the sum of committed offsets reaches the 30 messages.
        await eventually(
          async () => {
            const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] })
            return offsets?.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) === 30
          },
          { timeoutMs: 20_000, message: 'committed group offsets' },
        )
      } finally {
        await admin.disconnect()
      }
    } finally {
      await consumer.disconnect()
      await producer.disconnect()
    }
  })

  it('replicates a committed row to the read replica, which refuses writes', async () => {
    const db = await createTestDatabase(env)
    const primary = new pg.Client({ connectionString: db.url })
    const replica = new pg.Client({ connectionString: db.replicaUrl })
    try {
      await primary.connect()
      await replica.connect()
      await primary.query('CREATE TABLE probe (id int PRIMARY KEY, note text)')
      await primary.query(`INSERT INTO probe VALUES (1, 'from the primary')`)
      const row = await eventually(
        async () =>
          (await replica.query('SELECT note FROM probe WHERE id = 1').catch(() => ({ rows: [] }))).rows[0],
        { timeoutMs: 10_000, message: 'row on the replica' },
      )
      expect(row).toEqual({ note: 'from the primary' })
      const recovery = await replica.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')
      expect(recovery.rows[0]?.r).toBe(true)
      await expect(replica.query(`INSERT INTO probe VALUES (2, 'no')`)).rejects.toMatchObject({
        code: '25006',
      })
    } finally {
      await primary.end()
      await replica.end()
      await db.drop()
    }
  })
})
