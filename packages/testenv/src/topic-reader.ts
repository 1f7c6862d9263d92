// Reads what was published: topics from the beginning with a fresh consumer group, every message
// decoded as the writer decodes it (the envelope and its schema-version header).
import { SCHEMA_VERSION_HEADER, decodeEnvelope, type Envelope } from '@energy-ingest/contracts'
import { eventually } from '@energy-ingest/localstack'
import { Kafka, logLevel, type Consumer } from 'kafkajs'
import { uniqueName } from './databases.js'

export interface Received {
  topic: string
  partition: number
  key: string | null
  schemaVersion: string | undefined
  envelope: Envelope
}

/** Reads topics from the beginning with a fresh group, collecting every decoded message. */
export class TopicReader {
  readonly received: Received[] = []
  readonly #consumer: Consumer

  private constructor(consumer: Consumer) {
    this.#consumer = consumer
  }

  static async start(brokers: string[], topics: string[]): Promise<TopicReader> {
    const kafka = new Kafka({ clientId: 'test-topic-reader', brokers, logLevel: logLevel.NOTHING })
    const consumer = kafka.consumer({ groupId: uniqueName('topic_reader'), maxWaitTimeInMs: 100 })
    const reader = new TopicReader(consumer)
    await consumer.connect()
    await consumer.subscribe({ topics, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const header = message.headers?.[SCHEMA_VERSION_HEADER]
        const schemaVersion = header === undefined ? undefined : String(header)
        const decoded = decodeEnvelope(message.value, schemaVersion)
        if (!decoded.ok) throw new Error(`undecodable message on ${topic}: ${decoded.reason}`)
        reader.received.push({
          topic,
          partition,
          key: message.key?.toString() ?? null,
          schemaVersion,
          envelope: decoded.envelope,
        })
      },
    })
    return reader
  }

  /** Every reading (or assignment) received on a topic, with the message it came in. */
  items(topic: string): { key: string | null; partition: number; item: Record<string, unknown> }[] {
    return this.received
      .filter((r) => r.topic === topic)
      .flatMap((r) => {
        const list: object[] = r.envelope.type === 'assignment' ? r.envelope.assignments : r.envelope.readings
        return list.map((item) => ({
          key: r.key,
          partition: r.partition,
          item: item as Record<string, unknown>,
        }))
      })
  }

  async waitFor(count: (r: TopicReader) => boolean, message: string, timeoutMs = 20_000): Promise<void> {
    await eventually(() => count(this), { timeoutMs, intervalMs: 50, message })
  }

  async stop(): Promise<void> {
    await this.#consumer.disconnect()
  }
}
