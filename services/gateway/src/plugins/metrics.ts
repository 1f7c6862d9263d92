import fp from 'fastify-plugin'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface GatewayMetrics {
  registry: Registry
  /** Readings published and acknowledged, by type. */
  accepted: Counter<'type'>
  /** Readings refused, by type (`unknown` when undetectable) and reason. */
  rejected: Counter<'type' | 'reason'>
  /** Requests answered with an error, by route and error code. */
  failedRequests: Counter<'route' | 'code'>
  flushReadings: Histogram
  flushMessages: Histogram
  sendSeconds: Histogram<'result'>
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: GatewayMetrics
  }
}

/** One registry per app (not prom-client's global one), so apps built side by side in tests don't clash. */
export default fp(
  async function metrics(app, opts: { processMetrics: boolean }) {
    const registry = new Registry()
    if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'gateway_' })
    const registers = [registry]
    app.decorate('metrics', {
      registry,
      accepted: new Counter({
        name: 'gateway_readings_accepted_total',
        help: 'Readings acknowledged by Kafka',
        labelNames: ['type'],
        registers,
      }),
      rejected: new Counter({
        name: 'gateway_readings_rejected_total',
        help: 'Readings refused (invalid, forbidden, or not acknowledged by Kafka)',
        labelNames: ['type', 'reason'],
        registers,
      }),
      failedRequests: new Counter({
        name: 'gateway_requests_failed_total',
        help: 'Requests answered with an error status',
        labelNames: ['route', 'code'],
        registers,
      }),
      flushReadings: new Histogram({
        name: 'gateway_kafka_flush_readings',
        help: 'Readings per sendBatch',
        buckets: [1, 5, 20, 100, 500, 2000, 5000, 20000],
        registers,
      }),
      flushMessages: new Histogram({
        name: 'gateway_kafka_flush_messages',
        help: 'Kafka messages per sendBatch',
        buckets: [1, 5, 12, 24, 50, 100, 500, 2000],
        registers,
      }),
      sendSeconds: new Histogram({
        name: 'gateway_kafka_send_seconds',
        help: 'Latency of sendBatch until acknowledged (acks=-1)',
        labelNames: ['result'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers,
      }),
    })
  },
  { name: 'metrics', fastify: '5.x' },
)
