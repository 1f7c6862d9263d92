import type { Prometheus } from '@energy-ingest/service-kit'
import { Counter, Gauge, Histogram } from 'prom-client'

/** The writer's own metrics, on its app's registry (several writers can share a process in tests). */
// eslint-disable-next-line max-lines-per-function -- a declarative list of metric definitions
export function createMetrics(prometheus: Prometheus) {
  const registers = [prometheus.registry]
  return {
    registry: prometheus.registry,
    rowsInserted: new Counter({
      name: 'writer_rows_inserted_total',
      help: 'Readings (or assignments) newly stored',
      labelNames: ['type'] as const,
      registers,
    }),
    groupJoins: new Counter({
      name: 'writer_group_joins_total',
      help: 'Times this writer joined its consumer group (the first join, then one per rebalance or eviction)',
      registers,
    }),
    rowsDuplicate: new Counter({
      name: 'writer_rows_duplicate_total',
      help: 'Readings skipped because they were already stored (redelivery, duplicates)',
      labelNames: ['type'] as const,
      registers,
    }),
    batchReadings: new Histogram({
      name: 'writer_batch_readings',
      help: 'Valid items per stored batch',
      labelNames: ['type'] as const,
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000],
      registers,
    }),
    batchesPerTransaction: new Histogram({
      name: 'writer_batches_per_transaction',
      help: 'Partition batches stored together in one transaction (1: alone)',
      labelNames: ['type'] as const,
      buckets: [1, 2, 4, 8, 12, 16, 24, 32, 64],
      registers,
    }),
    batchDuration: new Histogram({
      name: 'writer_batch_duration_seconds',
      help: 'Decode + store + offset commit of one batch',
      labelNames: ['type'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    deadLetters: new Counter({
      name: 'writer_dead_letters_total',
      help: 'Messages or items sent to the DLQ topic',
      labelNames: ['type', 'code'] as const,
      registers,
    }),
    deadLettersTruncated: new Counter({
      name: 'writer_dead_letters_truncated_total',
      help: 'Dead letters whose payload was cut to fit the DLQ topic max.message.bytes',
      labelNames: ['type'] as const,
      registers,
    }),
    batchRetries: new Counter({
      name: 'writer_batch_retries_total',
      help: 'Store attempts of a batch that failed on a transient error and were retried',
      labelNames: ['type'] as const,
      registers,
    }),
    consumerLag: new Gauge({
      name: 'writer_consumer_lag',
      help: 'Messages between the group committed offset and the high watermark, per owned partition (read from the broker on a timer)',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    hoursClosed: new Counter({
      name: 'writer_rollup_hours_closed_total',
      help: 'Hours materialised into *_hourly by this writer',
      labelNames: ['type'] as const,
      registers,
    }),
    rollupWatermarkAge: new Gauge({
      name: 'writer_rollup_watermark_age_seconds',
      help: 'Now minus the rollup watermark (hours before it are materialised in *_hourly); 0 in per-batch mode',
      labelNames: ['kind'] as const,
      registers,
    }),
    heartbeatFailures: new Counter({
      name: 'writer_heartbeat_failures_total',
      help: 'Heartbeat updates of writer_heartbeat that failed',
      registers,
    }),
    partitionsCreated: new Counter({
      name: 'writer_partitions_created_total',
      help: 'Month partitions created by this writer (ahead of time or on demand)',
      registers,
    }),
  }
}
export type Metrics = ReturnType<typeof createMetrics>
