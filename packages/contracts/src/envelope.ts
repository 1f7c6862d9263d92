import type { Assignment, MeterReading, ReadingType, VehicleReading } from './schemas.js'

/** Kafka header carrying the envelope version; the writer refuses versions it does not know. */
export const SCHEMA_VERSION_HEADER = 'schema-version'
export const SCHEMA_VERSION = '1'

/**
 * One Kafka message = the readings of one type that fall on one partition, in arrival order.
 * Packing is what lets a 2-core gateway exceed kafkajs' per-message ceiling (docs/decisions.md); the key is
 * a device id of that partition, so each device's readings stay ordered on one partition.
 */
export type TelemetryEnvelope =
  | { v: 1; type: 'meter'; receivedAt: string; readings: MeterReading[] }
  | { v: 1; type: 'vehicle'; receivedAt: string; readings: VehicleReading[] }

export interface AssignmentEnvelope {
  v: 1
  type: 'assignment'
  receivedAt: string
  assignments: Assignment[]
}

export type Envelope = TelemetryEnvelope | AssignmentEnvelope

export function encodeEnvelope(envelope: Envelope): Buffer {
  return Buffer.from(JSON.stringify(envelope), 'utf8')
}

export type DecodeResult = { ok: true; envelope: Envelope } | { ok: false; reason: string }

const TYPES: ReadonlySet<string> = new Set<ReadingType | 'assignment'>(['meter', 'vehicle', 'assignment'])

/** Decodes the envelope's frame; each reading inside is re-validated by the consumer. */
export function decodeEnvelope(value: Buffer | null, schemaVersion?: string): DecodeResult {
  if (schemaVersion !== undefined && schemaVersion !== SCHEMA_VERSION) {
    return { ok: false, reason: `unknown schema version ${JSON.stringify(schemaVersion)}` }
  }
  if (value === null || value.length === 0) return { ok: false, reason: 'empty message' }
  let parsed: unknown
  try {
    parsed = JSON.parse(value.toString('utf8'))
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: 'not a JSON object' }
  }
  const e = parsed as Record<string, unknown>
  if (e.v !== 1) return { ok: false, reason: `unsupported envelope version ${JSON.stringify(e.v)}` }
  if (typeof e.type !== 'string' || !TYPES.has(e.type)) return { ok: false, reason: 'unknown envelope type' }
  if (typeof e.receivedAt !== 'string') return { ok: false, reason: 'receivedAt missing' }
  const list = e.type === 'assignment' ? e.assignments : e.readings
  if (!Array.isArray(list))
    return { ok: false, reason: `${e.type === 'assignment' ? 'assignments' : 'readings'} must be an array` }
  return { ok: true, envelope: e as unknown as Envelope }
}

/** What the writer publishes to the dead-letter topic for a message or reading it cannot store. */
export interface DeadLetter {
  reason: string
  issues?: { field: string; reason: string }[]
  source: { topic: string; partition: number; offset: string; key: string | null }
  /** The rejected item: the reading object, or the raw message text when undecodable. */
  payload: unknown
  failedAt: string
}
