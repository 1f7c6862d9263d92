import type { TopicNames } from '@energy-ingest/contracts'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Gauge, type Registry } from 'prom-client'
import { KafkaUnavailable, Overloaded, ShuttingDown } from '../errors.js'
import { BatcherClosedError, BatcherOverloadedError, MicroBatcher } from '../publish/micro-batcher.js'
import { packRecords, type OutRecord, type Packing } from '../publish/pack.js'

export interface PublisherOptions {
  topics: TopicNames
  lingerMs: number
  flushMaxReadings: number
  messageMaxReadings: number
  packing: Packing
  maxPendingReadings: number
  maxInFlightFlushes: number
  sendTimeoutMs: number
  /** Broker-side wait for the in-sync replicas' acknowledgement. */
  ackTimeoutMs: number
  /** The clock of the envelopes' receivedAt, in epoch ms. */
  now: () => number
}

export interface Publisher {
  /** Resolves once Kafka has acknowledged every record (acks=-1); rejects with a 503 error otherwise. */
  publish(records: OutRecord[]): Promise<void>
  pending(): number
}

declare module 'fastify' {
  interface FastifyInstance {
    publisher: Publisher
  }
}

class UnknownTopicError extends Error {
  override name = 'UnknownTopicError'
}

/** Packs one flush's records into Kafka messages and sends them, acks from every in-sync replica. */
async function sendRecords(
  records: OutRecord[],
  opts: PublisherOptions,
  kafka: FastifyInstance['kafka'],
  metrics: FastifyInstance['metrics'],
): Promise<void> {
  const packed = packRecords(records, {
    topics: opts.topics,
    partitionsOf: kafka.partitionsOf,
    maxPerMessage: opts.messageMaxReadings,
    packing: opts.packing,
    receivedAt: new Date(opts.now()).toISOString(),
  })
  if (!packed.ok) throw new UnknownTopicError(`partition count of ${packed.topic} unknown`)
  metrics.flushReadings.observe(records.length)
  metrics.flushMessages.observe(packed.messages)
  const end = metrics.sendSeconds.startTimer()
  try {
    await kafka.producer.sendBatch({
      topicMessages: packed.batch,
      acks: -1,
      timeout: opts.ackTimeoutMs,
    })
    end({ result: 'ok' })
    kafka.reportSend(true)
  } catch (err) {
    end({ result: 'error' })
    kafka.reportSend(false)
    throw err
  }
}

function registerGauges(registry: Registry, batcher: MicroBatcher<OutRecord>): void {
  new Gauge({
    name: 'gateway_kafka_pending_readings',
    help: 'Readings waiting for or in a flush (in a flush until its send settles, even past its deadline)',
    registers: [registry],
    collect() {
      this.set(batcher.pending)
    },
  })
  new Gauge({
    name: 'gateway_kafka_sends_in_flight',
    help: 'sendBatch calls not settled yet',
    registers: [registry],
    collect() {
      this.set(batcher.inFlight)
    },
  })
}

export default fp(
  async function publisher(app, opts: PublisherOptions) {
    const log = app.log.child({ component: 'publisher' })
    const { kafka, metrics } = app
    const batcher = new MicroBatcher<OutRecord>({
      lingerMs: opts.lingerMs,
      maxItems: opts.flushMaxReadings,
      maxPending: opts.maxPendingReadings,
      maxInFlight: opts.maxInFlightFlushes,
      timeoutMs: opts.sendTimeoutMs,
      send: (records) => sendRecords(records, opts, kafka, metrics),
      onFlush({ items, submissions, ms, error }) {
        if (error !== undefined) log.warn({ err: error, items, submissions, ms }, 'flush failed')
      },
    })
    registerGauges(app.prometheus.registry, batcher)

    app.decorate('publisher', {
      pending: () => batcher.pending,
      async publish(records) {
        try {
          await batcher.submit(records)
        } catch (err) {
          if (err instanceof BatcherOverloadedError) throw new Overloaded()
          if (err instanceof BatcherClosedError) throw new ShuttingDown()
          // Whatever went wrong between us and the broker, the readings are not known to be stored.
          throw new KafkaUnavailable()
        }
      },
    } satisfies Publisher)

    // Fastify stops taking requests first; what is already waiting is still flushed before disconnecting.
    app.addHook('onClose', async () => {
      await batcher.close()
      log.info('publisher flushed')
    })
  },
  { name: 'publisher', fastify: '5.x', dependencies: ['kafka', 'metrics'] },
)
