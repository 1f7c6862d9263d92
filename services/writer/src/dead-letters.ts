import kafkajs, { type Admin, type Producer } from 'kafkajs'
import type { Logger } from 'pino'
import { BATCH_OVERHEAD_BYTES, chunkByBytes, encodeDeadLetter } from './dead-letter-encoding.js'
import type { TopicKind, WriterDeadLetter } from './decode.js'
import type { Metrics } from './metrics.js'

// kafkajs is CommonJS, and Node's ESM loader finds only its first few exports by name: read the enum
// from the module object.
const { ConfigResourceTypes } = kafkajs

/**
 * Used when the broker tells neither the topic's nor its own limit: Kafka's default `message.max.bytes`
 * is 1,048,588 (managed services and the compose file keep it), so a little under 1 MB.
 */
export const FALLBACK_MAX_MESSAGE_BYTES = 1_000_000
/** Below this a dead letter cannot carry its origin and reason; such a topic is misconfigured. */
const SMALLEST_USEFUL_MAX_MESSAGE_BYTES = 4096

export interface MessageSizeLimit {
  bytes: number
  /** Where it came from: the topic's `max.message.bytes`, the broker's `message.max.bytes`, or neither. */
  source: 'topic' | 'broker' | 'fallback'
}

async function configValue(
  admin: Admin,
  type: kafkajs.ConfigResourceTypes,
  name: string,
  configName: string,
): Promise<number | undefined> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type, name, configNames: [configName] }],
  })
  const resource = resources[0]
  if (!resource || resource.errorCode !== 0) return undefined
  const value = Number(resource.configEntries.find((e) => e.configName === configName)?.configValue)
  return Number.isInteger(value) && value > 0 ? value : undefined
}

/**
 * The largest record batch the broker accepts on `topic`: the topic's `max.message.bytes` (its
 * override or the broker default it inherits), else the broker's `message.max.bytes` (asked of the
 * broker kafkajs sends admin requests to), else FALLBACK_MAX_MESSAGE_BYTES.
 */
export async function readMaxMessageBytes(
  admin: Admin,
  topic: string,
  log: Logger,
): Promise<MessageSizeLimit> {
  try {
    const bytes = await configValue(admin, ConfigResourceTypes.TOPIC, topic, 'max.message.bytes')
    if (bytes !== undefined) return { bytes, source: 'topic' }
  } catch (err) {
    log.warn({ err, topic }, 'could not read the topic max.message.bytes')
  }
  try {
    const { controller, brokers } = await admin.describeCluster()
    const id = controller ?? brokers[0]?.nodeId
    if (id !== undefined) {
      const bytes = await configValue(admin, ConfigResourceTypes.BROKER, String(id), 'message.max.bytes')
      if (bytes !== undefined) return { bytes, source: 'broker' }
    }
  } catch (err) {
    log.warn({ err }, 'could not read the broker message.max.bytes')
  }
  return { bytes: FALLBACK_MAX_MESSAGE_BYTES, source: 'fallback' }
}

export interface DeadLetterPublisherOptions {
  producer: Producer
  topic: string
  metrics: Metrics
  log: Logger
}

/**
 * Publishes dead letters to the DLQ topic in produce requests the broker accepts: none larger than the
 * topic's `max.message.bytes`, however many letters a batch yields, and a letter that alone would not
 * fit is truncated (its payload cut, `truncated: true`, `payloadBytes`). Acknowledged by all in-sync
 * replicas before send() resolves.
 */
export class DeadLetterPublisher {
  private limit: MessageSizeLimit = { bytes: FALLBACK_MAX_MESSAGE_BYTES, source: 'fallback' }

  constructor(private readonly opts: DeadLetterPublisherOptions) {}

  /** Reads the DLQ topic's size limit from the broker. */
  async configure(admin: Admin): Promise<MessageSizeLimit> {
    this.limit = await readMaxMessageBytes(admin, this.opts.topic, this.opts.log)
    const fields = { topic: this.opts.topic, maxMessageBytes: this.limit.bytes, source: this.limit.source }
    if (this.limit.bytes < SMALLEST_USEFUL_MAX_MESSAGE_BYTES) {
      this.opts.log.error(fields, 'the DLQ topic takes too small messages for a dead letter; sends will fail')
    } else {
      this.opts.log.info(fields, 'dead-letter size limit')
    }
    return this.limit
  }

  maxMessageBytes(): MessageSizeLimit {
    return this.limit
  }

  async send(kind: TopicKind, letters: WriterDeadLetter[]): Promise<void> {
    if (letters.length === 0) return
    const budget = this.limit.bytes - BATCH_OVERHEAD_BYTES
    const records = letters.map((letter) => encodeDeadLetter(letter, budget))
    const chunks = chunkByBytes(records, budget)
    for (const chunk of chunks) {
      await this.opts.producer.send({
        topic: this.opts.topic,
        acks: -1,
        messages: chunk.map(({ key, value, headers }) => ({ key, value, headers })),
      })
    }
    const { metrics, log } = this.opts
    let truncated = 0
    for (const [i, letter] of letters.entries()) {
      metrics.deadLetters.inc({ type: kind, code: letter.code })
      if (records[i]!.truncated) truncated++
    }
    if (truncated > 0) metrics.deadLettersTruncated.inc({ type: kind }, truncated)
    log.warn(
      {
        count: letters.length,
        truncated,
        requests: chunks.length,
        codes: [...new Set(letters.map((l) => l.code))],
        topic: letters[0]!.source.topic,
      },
      'sent to the dead-letter topic',
    )
  }
}
