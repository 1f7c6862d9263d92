import type { TopicNames } from '@energy-ingest/contracts'
import type { Batch, Consumer, EachBatchPayload, Kafka } from 'kafkajs'
import type { Pool } from 'pg'
import type { Logger } from 'pino'
import type { DeadLetterPublisher } from './dead-letters.js'
import { decodeBatch, type MessageRows, type TopicKind, type WriterDeadLetter } from './decode.js'
import { toWriterError } from './errors.js'
import type { Metrics } from './metrics.js'
import type { StoreResult } from './store.js'
import { StoreGroups } from './store-groups.js'

export interface ConsumerOptions {
  kafka: Kafka
  pool: Pool
  /** Sends dead letters, in requests the DLQ topic accepts; acks from all in-sync replicas. */
  deadLetters: DeadLetterPublisher
  topics: TopicNames
  groupId: string
  fromBeginning: boolean
  partitionsConcurrently: number
  maxBytesPerPartition: number
  maxBytes: number
  maxWaitMs: number
  minBytes: number
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  retentionMonths: number
  maxFutureSkewMs: number
  retryInitialMs: number
  retryMaxMs: number
  /** Power ceiling of the register `suspect` rule, kW (ENERGY_MAX_POWER_KW). */
  maxPowerKw?: number
  metrics: Metrics
  log: Logger
  now?: () => Date
  /**
   * The consumer crashed and kafkajs will not restart it (an error it does not retry): this member
   * consumes nothing from now on.
   */
  onFatal?: (err: Error) => void
  /** Test hook: runs after the batch's transaction committed and before its offsets are resolved. */
  afterCommit?: (batch: { topic: string; partition: number; lastOffset: string }) => Promise<void> | void
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The consumer-group member: per topic-partition batch, decode + re-validate, dead-letter what is
 * bad, store the rest in one PostgreSQL transaction, and only then resolve and commit the offsets.
 */
export class TelemetryConsumer {
  private readonly consumer: Consumer
  private readonly kindOf: Map<string, TopicKind>
  private joined = false
  private crashed: string | undefined
  private owned: Record<string, number[]> = {}
  private readonly now: () => Date
  private readonly groups: StoreGroups

  constructor(private readonly opts: ConsumerOptions) {
    this.now = opts.now ?? (() => new Date())
    this.groups = new StoreGroups(opts.pool, { maxPowerKw: opts.maxPowerKw }, (kind, batches) =>
      opts.metrics.batchesPerTransaction.observe({ type: kind }, batches),
    )
    this.kindOf = new Map<string, TopicKind>([
      [opts.topics.meter, 'meter'],
      [opts.topics.vehicle, 'vehicle'],
      [opts.topics.assignments, 'assignment'],
    ])
    this.consumer = opts.kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.sessionTimeoutMs,
      heartbeatInterval: opts.heartbeatIntervalMs,
      maxBytesPerPartition: opts.maxBytesPerPartition,
      maxBytes: opts.maxBytes,
      maxWaitTimeInMs: opts.maxWaitMs,
      minBytes: opts.minBytes,
      allowAutoTopicCreation: false,
    })
    const { GROUP_JOIN, CRASH, STOP, DISCONNECT } = this.consumer.events
    this.consumer.on(GROUP_JOIN, ({ payload }) => {
      this.joined = true
      this.crashed = undefined
      opts.metrics.groupJoins.inc()
      this.owned = payload.memberAssignment
      opts.log.info({ assignment: payload.memberAssignment }, 'joined consumer group')
    })
    this.consumer.on(CRASH, ({ payload }) => {
      this.joined = false
      this.owned = {}
      this.crashed = payload.error.message
      opts.log.error({ err: payload.error, restart: payload.restart }, 'consumer crashed')
      if (!payload.restart) opts.onFatal?.(payload.error)
    })
    this.consumer.on(STOP, () => {
      this.joined = false
      this.owned = {}
    })
    this.consumer.on(DISCONNECT, () => {
      this.joined = false
      this.owned = {}
    })
  }

  /** Member of the group with a live fetch loop. */
  readiness(): { ready: boolean; reason?: string } {
    if (this.crashed) return { ready: false, reason: `consumer crashed: ${this.crashed}` }
    return this.joined ? { ready: true } : { ready: false, reason: 'not in the consumer group yet' }
  }

  /** Partitions this member owns, per topic, as of its last group join (empty when out of the group). */
  assignment(): Record<string, number[]> {
    return this.owned
  }

  async start(): Promise<void> {
    await this.consumer.connect()
    await this.consumer.subscribe({
      topics: [this.opts.topics.meter, this.opts.topics.vehicle, this.opts.topics.assignments],
      fromBeginning: this.opts.fromBeginning,
    })
    await this.consumer.run({
      eachBatchAutoResolve: false,
      // Offsets are committed after every stored batch: a restart redelivers at most the batch in hand.
      autoCommitThreshold: 1,
      partitionsConsumedConcurrently: this.opts.partitionsConcurrently,
      eachBatch: (payload) => this.handleBatch(payload),
    })
  }

  /** Finishes the batches in hand, commits their offsets and leaves the group. */
  async stop(): Promise<void> {
    await this.consumer.disconnect()
  }

  /**
   * One topic-partition batch: decode, dead-letter what is bad, store the rest (retrying what may
   * pass), and only then resolve and commit the offsets.
   */
  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload
    if (batch.isEmpty() || !isRunning() || isStale()) return
    const kind = this.kindOf.get(batch.topic)
    if (!kind) throw new Error(`message from an unexpected topic ${batch.topic}`)
    const started = performance.now()
    const keepAlive = this.keepAlive(payload)
    try {
      const decoded = decodeBatch(kind, batch.messages, {
        topic: batch.topic,
        partition: batch.partition,
        retentionMonths: this.opts.retentionMonths,
        maxFutureSkewMs: this.opts.maxFutureSkewMs,
        now: this.now,
      })
      // Dead letters go out before the offsets move: acknowledged by Kafka, or the batch is retried.
      await this.sendDeadLetters(kind, decoded.deadLetters)
      await this.storeWithRetry(payload, kind, decoded.messages)
    } finally {
      clearInterval(keepAlive)
    }
    await this.opts.afterCommit?.({
      topic: batch.topic,
      partition: batch.partition,
      lastOffset: batch.lastOffset(),
    })
    resolveOffset(batch.lastOffset())
    await commitOffsetsIfNecessary()
    await heartbeat()
    this.opts.metrics.batchDuration.observe({ type: kind }, (performance.now() - started) / 1000)
  }

  /**
   * Stores the messages, retrying with back-off while the error is retriable and this member still
   * owns the partition. A non-retriable error, or one after the member stopped or lost the partition,
   * is thrown: the batch stays uncommitted and whoever owns the partition next redelivers it.
   */
  private async storeWithRetry(
    payload: EachBatchPayload,
    kind: TopicKind,
    messages: MessageRows<TopicKind>[],
  ): Promise<void> {
    const { batch, isRunning, isStale } = payload
    let delay = this.opts.retryInitialMs
    for (;;) {
      try {
        // With the batches of other partitions of this kind handed in at the same time, in one transaction.
        const stored = await this.groups.store(kind, messages, batch.partition)
        await this.sendDeadLetters(
          kind,
          stored.rejected.map((r) => this.rejectedLetter(batch, r)),
        )
        this.recordStored(batch, kind, stored)
        return
      } catch (err) {
        const failure = toWriterError(err)
        if (!failure.retriable || !isRunning() || isStale()) throw failure
        this.opts.metrics.batchRetries.inc({ type: kind })
        this.opts.log.warn(
          { err: failure, topic: batch.topic, partition: batch.partition, retryInMs: delay },
          'batch store failed, retrying',
        )
        await this.backOff(payload, delay)
        delay = Math.min(delay * 2, this.opts.retryMaxMs)
      }
    }
  }

  /**
   * Heartbeats while the batch is in hand: a store can outlast the session (a lock held by an hour
   * closing, a slow disk, a loaded machine), and without heartbeats the group would evict this member,
   * its offset commit would fail and the batch would come again, maybe as slowly. A failed heartbeat
   * (a rebalance under way) is left to the commit after the store, which kafkajs answers by rejoining.
   */
  private keepAlive(payload: EachBatchPayload): NodeJS.Timeout {
    return setInterval(() => {
      payload.heartbeat().catch(() => undefined)
    }, this.opts.heartbeatIntervalMs)
  }

  /** Waits `delay` in heartbeat-sized steps: a long pause must not cost the group membership. */
  private async backOff(payload: EachBatchPayload, delay: number): Promise<void> {
    for (let left = delay; left > 0; left -= this.opts.heartbeatIntervalMs) {
      await payload.heartbeat()
      await sleep(Math.min(left, this.opts.heartbeatIntervalMs))
    }
  }

  private rejectedLetter(batch: Batch, { message, err }: StoreResult['rejected'][number]): WriterDeadLetter {
    return {
      code: err.code,
      reason: err.message,
      ...(err.sqlState ? { sqlState: err.sqlState } : {}),
      ...(err.constraint ? { constraint: err.constraint } : {}),
      source: { topic: batch.topic, partition: batch.partition, offset: message.offset, key: message.key },
      payload: message.rows,
      failedAt: this.now().toISOString(),
    }
  }

  private recordStored(batch: Batch, kind: TopicKind, stored: StoreResult): void {
    const { metrics, log } = this.opts
    metrics.rowsInserted.inc({ type: kind }, stored.inserted)
    metrics.rowsDuplicate.inc({ type: kind }, stored.duplicates)
    metrics.batchReadings.observe({ type: kind }, stored.inserted + stored.duplicates)
    if (stored.partitionsCreated.length > 0) {
      metrics.partitionsCreated.inc(stored.partitionsCreated.length)
      log.info({ partitions: stored.partitionsCreated }, 'month partitions created on demand')
    }
    log.debug(
      {
        topic: batch.topic,
        partition: batch.partition,
        inserted: stored.inserted,
        duplicates: stored.duplicates,
      },
      'batch stored',
    )
  }

  private sendDeadLetters(kind: TopicKind, letters: WriterDeadLetter[]): Promise<void> {
    return this.opts.deadLetters.send(kind, letters)
  }
}
