import {
  SCHEMA_VERSION_HEADER,
  decodeEnvelope,
  topicNames,
  type Envelope,
  type TopicNames,
} from '@energy-ingest/contracts'
import { createTopics, eventually, testTopicPrefix, uniqueName } from '@energy-ingest/testenv'
import { Kafka, logLevel, type Consumer } from 'kafkajs'
import { buildApp, type App, type AppOverrides } from '../../src/app.js'
import { deviceToken } from '../../src/auth/tokens.js'
import { loadConfig, type Config } from '../../src/config.js'

export const SECRET = 'integration-test-secret'
export const FLEET = 'fleet-integration-token'
export const fleetAuth = { authorization: `Bearer ${FLEET}` }
export const deviceAuth = (type: 'meter' | 'vehicle', id: string) => ({
  authorization: `Bearer ${deviceToken(SECRET, type, id)}`,
})

/** A unique topic set on the shared broker, created with 12 partitions. */
export async function freshTopics(brokers: string[]): Promise<TopicNames & { prefix: string }> {
  const prefix = testTopicPrefix()
  const topics = topicNames(prefix)
  await createTopics(brokers, [topics.meter, topics.vehicle, topics.assignments])
  return { ...topics, prefix }
}

export function testConfig(brokers: string[], prefix: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    INGEST_TOKEN_SECRET: SECRET,
    INGEST_FLEET_TOKENS: FLEET,
    LOG_LEVEL: 'silent',
    METRICS_PROCESS: 'false',
    ...env,
  })
}

export async function gateway(
  brokers: string[],
  prefix: string,
  env: Record<string, string> = {},
  overrides: AppOverrides = {},
): Promise<App> {
  const app = await buildApp(testConfig(brokers, prefix, env), overrides)
  await app.ready()
  return app
}

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
    const kafka = new Kafka({ clientId: 'gateway-test-reader', brokers, logLevel: logLevel.NOTHING })
    const consumer = kafka.consumer({ groupId: uniqueName('gw_reader'), maxWaitTimeInMs: 100 })
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

/** A plain producer for sentinels, closed by the caller. */
export async function rawProducer(brokers: string[]) {
  const kafka = new Kafka({ clientId: 'gateway-test-sentinel', brokers, logLevel: logLevel.NOTHING })
  const producer = kafka.producer()
  await producer.connect()
  return producer
}

export const iso = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString()

export const meterReading = (meterId: string, extra: Record<string, unknown> = {}) => ({
  meterId,
  kwhConsumedAc: 1.25,
  voltage: 231.4,
  timestamp: iso(-60_000),
  ...extra,
})

export const vehicleReading = (vehicleId: string, extra: Record<string, unknown> = {}) => ({
  vehicleId,
  soc: 55,
  kwhDeliveredDc: 1.1,
  batteryTemp: 31.5,
  timestamp: iso(-60_000),
  ...extra,
})
