// The gateway bench's floor: the bare route's answers behind the gateway's own Kafka path (its kafka
// client plugin, micro-batcher, per-partition packing and acks from every in-sync replica), with its
// configuration, and nothing else: no validation, auth, rate limit, time rules or HTTP metrics. No
// gateway built on this Kafka client and broker can be faster on these cores, so the gateway's rate
// against it is its own work's share. kafka-floor-server.ts runs it as a process of its own.
import { topicNames } from '@energy-ingest/contracts'
import {
  gatewayMetrics,
  kafka,
  kafkaOptions,
  loadConfig,
  publisher,
  publisherOptions,
  type OutRecord,
} from '@energy-ingest/gateway'
import { metrics } from '@energy-ingest/service-kit'
import Fastify, { type FastifyInstance } from 'fastify'

/** A body as the bare route reads it: a meter if it names a meter, else a vehicle; unchecked. */
function recordOf(body: Record<string, unknown>): OutRecord {
  return 'meterId' in body
    ? { kind: 'meter', key: String(body.meterId), value: body as never }
    : { kind: 'vehicle', key: String(body.vehicleId), value: body as never }
}

/** The floor, configured from the gateway's variables (KAFKA_BROKERS, KAFKA_TOPIC_PREFIX, KAFKA_*). */
export async function buildFloor(env: Record<string, string | undefined>): Promise<FastifyInstance> {
  const config = loadConfig({ INGEST_DEV_MODE: 'true', ...env })
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX)
  const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 })

  // The Kafka path in a context of its own, so that the metrics plugin's per-request hooks (which the
  // publisher's metrics need registered) stay off the routes below.
  let publish: FastifyInstance['publisher']['publish'] = () => Promise.reject(new Error('not ready'))
  await app.register(async (kafkaPath) => {
    await kafkaPath.register(metrics, { service: 'floor', processMetrics: false })
    await kafkaPath.register(gatewayMetrics)
    await kafkaPath.register(kafka, kafkaOptions(config, topics))
    await kafkaPath.register(publisher, publisherOptions(config, topics, Date.now))
    publish = (records) => kafkaPath.publisher.publish(records)
  })

  app.post('/v1/ingest', async (req, reply) => {
    const record = recordOf(req.body as Record<string, unknown>)
    await publish([record])
    return reply.code(202).send({ type: record.kind })
  })
  app.post('/v1/ingest/batch', async (req, reply) => {
    const body = req.body as Record<string, unknown>[]
    await publish(body.map(recordOf))
    return reply.code(202).send({ accepted: body.length, rejected: [] })
  })
  app.get('/health/ready', async () => ({ status: 'ok' }))
  return app
}
