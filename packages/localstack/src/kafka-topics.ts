import { Kafka, logLevel } from 'kafkajs'
import { DEFAULT_PARTITIONS } from '@energy-ingest/contracts'
import { eventually } from './eventually.js'

export interface TopicOptions {
  /** Copies of each partition (default 1; a three-broker cluster uses 3). */
  replicationFactor?: number
  /** Topic-level min.insync.replicas (acks=-1 succeeds while this many copies are in sync). */
  minInsyncReplicas?: number
  /** Further topic-level settings (e.g. retention.ms), as the broker names them. */
  config?: Record<string, string>
}

/**
 * Creates topics (idempotent) and waits until every partition has a leader and, with replicas, every
 * replica in sync. Retried: while another client creates topics at the same moment, the broker can
 * answer "does not host this topic-partition" for a topic that is a few milliseconds from ready.
 */
export async function createTopics(
  brokers: string[],
  topics: string[],
  partitions = DEFAULT_PARTITIONS,
  options: TopicOptions = {},
): Promise<void> {
  const replicationFactor = options.replicationFactor ?? 1
  const configEntries = Object.entries({
    ...options.config,
    ...(options.minInsyncReplicas === undefined
      ? {}
      : { 'min.insync.replicas': String(options.minInsyncReplicas) }),
  }).map(([name, value]) => ({ name, value }))
  const admin = new Kafka({ clientId: 'localstack-admin', brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await eventually(
      async () => {
        const existing = new Set(await admin.listTopics())
        const missing = topics.filter((t) => !existing.has(t))
        if (missing.length > 0) {
          await admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((topic) => ({
              topic,
              numPartitions: partitions,
              replicationFactor,
              configEntries,
            })),
          })
        }
        const { topics: meta } = await admin.fetchTopicMetadata({ topics })
        return (
          meta.length === topics.length &&
          meta.every((t) => t.partitions.every((p) => p.leader >= 0 && p.isr.length >= replicationFactor))
        )
      },
      { timeoutMs: 60_000, intervalMs: 200, message: `topics ${topics.join(', ')}` },
    )
  } finally {
    await admin.disconnect()
  }
}
