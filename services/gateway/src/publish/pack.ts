import {
  SCHEMA_VERSION,
  SCHEMA_VERSION_HEADER,
  encodeEnvelope,
  partitionForKey,
  type Assignment,
  type Envelope,
  type MeterReading,
  type TopicNames,
  type ValidatedReading,
  type VehicleReading,
} from '@energy-ingest/contracts'
import type { Message, TopicMessages } from 'kafkajs'

/** One validated item to publish; `key` is its device id (vehicle id for assignments). */
export type OutRecord =
  | { kind: 'meter'; key: string; value: MeterReading }
  | { kind: 'vehicle'; key: string; value: VehicleReading }
  | { kind: 'assignment'; key: string; value: Assignment }

export type Packing = 'partition' | 'none'

/** The record of a validated reading, keyed by its device id. */
export function readingRecord(v: ValidatedReading): OutRecord {
  return v.type === 'meter'
    ? { kind: 'meter', key: v.reading.meterId, value: v.reading }
    : { kind: 'vehicle', key: v.reading.vehicleId, value: v.reading }
}

export interface PackOptions {
  topics: TopicNames
  /** Partition count of a topic, or undefined when the topic is unknown. */
  partitionsOf: (topic: string) => number | undefined
  maxPerMessage: number
  packing: Packing
  receivedAt: string
}

export type PackResult = { ok: true; batch: TopicMessages[]; messages: number } | { ok: false; topic: string }

const HEADERS = { [SCHEMA_VERSION_HEADER]: SCHEMA_VERSION }

export function topicOf(kind: OutRecord['kind'], topics: TopicNames): string {
  return kind === 'assignment' ? topics.assignments : topics[kind]
}

function envelopeOf(kind: OutRecord['kind'], values: OutRecord['value'][], receivedAt: string): Envelope {
  if (kind === 'assignment') return { v: 1, type: kind, receivedAt, assignments: values as Assignment[] }
  if (kind === 'meter') return { v: 1, type: kind, receivedAt, readings: values as MeterReading[] }
  return { v: 1, type: kind, receivedAt, readings: values as VehicleReading[] }
}

/**
 * Groups records by (topic, partition) with Kafka's own partitioner, then packs each group, in
 * arrival order, into messages of at most `maxPerMessage` records. A message's key is a device id
 * of its partition and its partition is set explicitly, so every device keeps to one partition.
 */
export function packRecords(records: readonly OutRecord[], opts: PackOptions): PackResult {
  const groups = new Map<string, Map<number, OutRecord[]>>()
  for (const record of records) {
    const topic = topicOf(record.kind, opts.topics)
    const count = opts.partitionsOf(topic)
    if (count === undefined || count < 1) return { ok: false, topic }
    const partition = partitionForKey(record.key, count)
    let byPartition = groups.get(topic)
    if (!byPartition) groups.set(topic, (byPartition = new Map()))
    const group = byPartition.get(partition)
    if (group) group.push(record)
    else byPartition.set(partition, [record])
  }
  const size = opts.packing === 'none' ? 1 : opts.maxPerMessage
  const batch: TopicMessages[] = []
  let messages = 0
  for (const [topic, byPartition] of groups) {
    const out: Message[] = []
    for (const [partition, group] of byPartition) {
      for (let i = 0; i < group.length; i += size) {
        const chunk = group.slice(i, i + size)
        const first = chunk[0]!
        out.push({
          key: first.key,
          partition,
          headers: HEADERS,
          value: encodeEnvelope(
            envelopeOf(
              first.kind,
              chunk.map((r) => r.value),
              opts.receivedAt,
            ),
          ),
        })
      }
    }
    messages += out.length
    batch.push({ topic, messages: out })
  }
  return { ok: true, batch, messages }
}
