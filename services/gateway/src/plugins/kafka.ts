import type { FastifyBaseLogger } from 'fastify'
import fp from 'fastify-plugin'
import { kafkaLogCreator } from '@energy-ingest/service-kit'
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs'

export interface KafkaOptions {
  brokers: string[]
  clientId: string
  /** Topics whose partition counts the publisher needs. */
  topics: string[]
  connectionTimeoutMs: number
  requestTimeoutMs: number
  retries: number
  metadataRefreshMs: number
}

/** The producer plus what the publisher and the readiness probe need to know about the cluster. */
export interface KafkaHandle {
  producer: Producer
  partitionsOf(topic: string): number | undefined
  /** Producer connected, every topic's partition count known, last contact with the broker good. */
  readiness(): { ready: boolean; reason?: string }
  /** Called after each send: a failure starts probing the broker until it answers again. */
  reportSend(ok: boolean): void
}

declare module 'fastify' {
  interface FastifyInstance {
    kafka: KafkaHandle
  }
}

const PROBE_INTERVAL_MS = 1000

type Log = FastifyBaseLogger

function createClient(opts: KafkaOptions, log: Log): Kafka {
  return new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: opts.connectionTimeoutMs,
    requestTimeout: opts.requestTimeoutMs,
    // Bounded retries: a send to a dead broker fails in ~1-2 s (measured on a 2-core machine), so a client gets 503 fast.
    retry: { retries: opts.retries, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(log),
  })
}

/** The producer and admin client, and what is known of the broker: connected, healthy, partition counts. */
class KafkaConnection {
  readonly producer: Producer
  private readonly admin: Admin
  private readonly partitions = new Map<string, number>()
  private producerConnected = false
  private adminConnected = false
  private healthy = false
  private closing = false
  private probe: NodeJS.Timeout | undefined

  constructor(
    private readonly opts: KafkaOptions,
    private readonly log: Log,
  ) {
    const client = createClient(opts, log)
    // Not idempotent, on purpose: kafkajs 2.2.4 rolls a partition's sequence number back when a produce
    // request fails, even when the broker had written it; the next, different batch then reuses that
    // number, the broker drops it as a duplicate and still acknowledges it. test/integration/
    // broker-outage.test.ts lost 1-2 acknowledged readings in 3 of 8 runs that way. At-least-once plus
    // the writer's idempotent storage is the guarantee instead.
    this.producer = client.producer({ idempotent: false, allowAutoTopicCreation: false })
    this.admin = client.admin()
    this.producer.on(this.producer.events.CONNECT, () => (this.producerConnected = true))
    this.producer.on(this.producer.events.DISCONNECT, () => (this.producerConnected = false))
  }

  async refresh(): Promise<boolean> {
    try {
      if (!this.producerConnected) await this.producer.connect()
      if (!this.adminConnected) {
        await this.admin.connect()
        this.adminConnected = true
      }
      const { topics } = await this.admin.fetchTopicMetadata({ topics: this.opts.topics })
      for (const t of topics) this.partitions.set(t.name, t.partitions.length)
      if (!this.healthy) this.log.info({ partitions: Object.fromEntries(this.partitions) }, 'kafka reachable')
      this.healthy = true
    } catch (err) {
      if (this.healthy) this.log.warn({ err }, 'kafka unreachable')
      this.healthy = false
    }
    return this.healthy
  }

  // Probe every second while unhealthy, otherwise refresh the partition counts now and then.
  schedule(): void {
    if (this.closing) return
    clearTimeout(this.probe)
    this.probe = setTimeout(
      () => void this.refresh().then(() => this.schedule()),
      this.healthy ? this.opts.metadataRefreshMs : PROBE_INTERVAL_MS,
    )
    this.probe.unref()
  }

  partitionsOf(topic: string): number | undefined {
    return this.partitions.get(topic)
  }

  readiness(): { ready: boolean; reason?: string } {
    if (this.closing) return { ready: false, reason: 'shutting down' }
    if (!this.producerConnected) return { ready: false, reason: 'producer not connected' }
    const missing = this.opts.topics.filter((t) => !this.partitions.has(t))
    if (missing.length > 0) return { ready: false, reason: `unknown topics: ${missing.join(', ')}` }
    if (!this.healthy) return { ready: false, reason: 'broker unreachable' }
    return { ready: true }
  }

  reportSend(ok: boolean): void {
    if (ok) {
      this.healthy = true
      return
    }
    if (!this.healthy) return
    this.healthy = false
    this.log.warn('kafka send failed; probing the broker')
    this.schedule()
  }

  /** Stops probing; readiness answers 'shutting down' from now on. */
  close(): void {
    this.closing = true
    clearTimeout(this.probe)
  }

  async disconnect(): Promise<void> {
    const started = Date.now()
    await Promise.allSettled([
      this.producer
        .disconnect()
        .then(() => this.log.info({ ms: Date.now() - started }, 'producer disconnected')),
      this.admin.disconnect().then(() => this.log.info({ ms: Date.now() - started }, 'admin disconnected')),
    ])
  }
}

export default fp(
  async function kafka(app, opts: KafkaOptions) {
    const log = app.log.child({ component: 'kafka' })
    const connection = new KafkaConnection(opts, log)
    if (!(await connection.refresh())) log.warn('kafka not reachable at start-up; retrying in the background')
    connection.schedule()

    app.decorate('kafka', {
      producer: connection.producer,
      partitionsOf: (topic: string) => connection.partitionsOf(topic),
      readiness: () => connection.readiness(),
      reportSend: (ok: boolean) => connection.reportSend(ok),
    } satisfies KafkaHandle)

    app.addHook('preClose', async () => connection.close())
    // Runs after the publisher's onClose (reverse registration order), so pending batches are flushed first.
    app.addHook('onClose', async () => connection.disconnect())
  },
  { name: 'kafka', fastify: '5.x' },
)
