import type { Admin } from 'kafkajs'
import type { Logger } from 'pino'
import type { Metrics } from './metrics.js'
import { Periodic } from './periodic.js'

export interface LagMonitorOptions {
  admin: Admin
  groupId: string
  /** Partitions this member owns, per topic (its last group join); empty when out of the group. */
  assignment: () => Record<string, number[]>
  /** Where the group starts on a partition without a committed offset. */
  fromBeginning: boolean
  intervalMs: number
  metrics: Metrics
  log: Logger
}

const seriesKey = (topic: string, partition: number) => `${topic}\u0000${partition}`

/**
 * Exports `writer_consumer_lag` per owned partition, read from the broker on a timer: the high
 * watermark minus the group's committed offset. It grows while batches are stuck (a blocked database,
 * retries) and not only after a batch succeeds. Series of partitions this member no longer owns are
 * removed: the member that owns them now reports them.
 */
export class LagMonitor {
  private readonly periodic: Periodic
  private readonly series = new Map<string, { topic: string; partition: string }>()

  constructor(private readonly opts: LagMonitorOptions) {
    this.periodic = new Periodic({
      intervalMs: opts.intervalMs,
      task: () => this.poll(),
      onError: (err, inARow) => {
        if (inARow === 1) opts.log.warn({ err }, 'reading the consumer lag failed; retrying every tick')
      },
      onRecover: () => opts.log.info('reading the consumer lag works again'),
    })
  }

  /** One reading of every owned partition's lag. */
  async poll(): Promise<void> {
    const { admin, groupId, metrics } = this.opts
    const assignment = this.opts.assignment()
    const topics = Object.keys(assignment).filter((t) => (assignment[t] ?? []).length > 0)
    const lags = new Map<string, { topic: string; partition: string; lag: number }>()
    if (topics.length > 0) {
      const committed = new Map<string, number>()
      for (const t of await admin.fetchOffsets({ groupId, topics })) {
        for (const p of t.partitions) committed.set(seriesKey(t.topic, p.partition), Number(p.offset))
      }
      for (const topic of topics) {
        const owned = new Set(assignment[topic])
        for (const end of await admin.fetchTopicOffsets(topic)) {
          if (!owned.has(end.partition)) continue
          const high = Number(end.high)
          const low = Number(end.low)
          const key = seriesKey(topic, end.partition)
          const done = committed.get(key) ?? -1
          // No committed offset yet: the group starts at the oldest message or at the end.
          const from = done >= 0 ? Math.max(done, low) : this.opts.fromBeginning ? low : high
          lags.set(key, { topic, partition: String(end.partition), lag: Math.max(0, high - from) })
        }
      }
    }
    for (const [key, labels] of this.series) {
      if (!lags.has(key)) {
        metrics.consumerLag.remove(labels)
        this.series.delete(key)
      }
    }
    for (const [key, { topic, partition, lag }] of lags) {
      metrics.consumerLag.set({ topic, partition }, lag)
      this.series.set(key, { topic, partition })
    }
  }

  start(): void {
    this.periodic.start()
  }

  stop(): Promise<void> {
    return this.periodic.stop()
  }
}
