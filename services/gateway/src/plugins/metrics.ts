import fp from 'fastify-plugin'
import { Counter, Histogram } from 'prom-client'

export interface GatewayMetrics {
  /** Readings published and acknowledged, by type. */
  accepted: Counter<'type'>
  /** Readings refused, by type (`unknown` when undetectable) and reason. */
  rejected: Counter<'type' | 'reason'>
  flushReadings: Histogram
  flushMessages: Histogram
  sendSeconds: Histogram<'result'>
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: GatewayMetrics
  }
}

/** The gateway's own metrics, on the app's registry (service-kit's `prometheus` plugin). */
export default fp(
  async function metrics(app) {
    const registers = [app.prometheus.registry]
    const name = app.prometheus.name
    app.decorate('metrics', {
      accepted: new Counter({
        name: name('readings_accepted_total'),
        help: 'Readings acknowledged by Kafka',
        labelNames: ['type'],
        registers,
      }),
      rejected: new Counter({
        name: name('readings_rejected_total'),
        help: 'Readings refused (invalid, forbidden, or not acknowledged by Kafka)',
        labelNames: ['type', 'reason'],
        registers,
      }),
      flushReadings: new Histogram({
        name: name('kafka_flush_readings'),
        help: 'Readings per sendBatch',
        buckets: [1, 5, 20, 100, 500, 2000, 5000, 20000],
        registers,
      }),
      flushMessages: new Histogram({
        name: name('kafka_flush_messages'),
        help: 'Kafka messages per sendBatch',
        buckets: [1, 5, 12, 24, 50, 100, 500, 2000],
        registers,
      }),
      sendSeconds: new Histogram({
        name: name('kafka_send_seconds'),
        help: 'Latency of sendBatch until acknowledged (acks=-1)',
        labelNames: ['result'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers,
      }),
    })
  },
  { name: 'metrics', fastify: '5.x', dependencies: ['prometheus'] },
)
