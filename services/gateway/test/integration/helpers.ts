import { topicNames, type TopicNames } from '@energy-ingest/contracts'
import { createTopics, testTopicPrefix } from '@energy-ingest/testenv'
import { Kafka, logLevel } from 'kafkajs'
import { buildApp, type App, type AppOverrides } from '../../src/app.js'
import { deviceToken } from '../../src/auth/tokens.js'
import { loadConfig, type Config } from '../../src/config.js'

export { TopicReader, type Received } from '@energy-ingest/testenv'

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
