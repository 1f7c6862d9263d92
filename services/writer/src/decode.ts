import {
  decodeEnvelope,
  parseTimestamp,
  retentionCutoff,
  validateAssignment,
  validateReading,
  SCHEMA_VERSION_HEADER,
  type DeadLetter,
} from '@energy-ingest/contracts'
import type { AssignmentRow, MeterRow, VehicleRow } from '@energy-ingest/db'
import { WriterErrorCode } from './errors.js'

export type TopicKind = 'meter' | 'vehicle' | 'assignment'

/** What the writer publishes to the DLQ: the contract's DeadLetter plus a stable code. */
export interface WriterDeadLetter extends DeadLetter {
  code: WriterErrorCode
  /** SQLSTATE and constraint when PostgreSQL refused the rows. */
  sqlState?: string
  constraint?: string
}

/** The part of a kafkajs message the writer reads. */
export interface MessageLike {
  key: Buffer | null
  value: Buffer | null
  offset: string
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>
}

export interface RowsOf {
  meter: MeterRow
  vehicle: VehicleRow
  assignment: AssignmentRow
}

/** The valid rows of one Kafka message (kept apart so a message can be isolated if PG refuses it). */
export interface MessageRows<K extends TopicKind> {
  offset: string
  key: string | null
  rows: RowsOf[K][]
}

export interface DecodedBatch<K extends TopicKind> {
  messages: MessageRows<K>[]
  deadLetters: WriterDeadLetter[]
}

export interface DecodeContext {
  topic: string
  partition: number
  /** Readings before retentionCutoff(receivedAt of their envelope, retentionMonths) are refused. */
  retentionMonths: number
  maxFutureSkewMs: number
  now: () => Date
}

const MAX_RAW_PAYLOAD_CHARS = 256 * 1024

function headerText(value: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value
  return first === undefined ? undefined : first.toString()
}

type Envelope = Extract<ReturnType<typeof decodeEnvelope>, { ok: true }>['envelope']
type DeadFn = (code: WriterErrorCode, reason: string, payload: unknown, issues?: DeadLetter['issues']) => void

/**
 * The rows of an envelope's valid items; each invalid, misplaced or expired item goes to `dead`.
 * Readings are checked against the envelope's receivedAt (future skew, retention).
 */
function validRows<K extends TopicKind>(
  kind: K,
  envelope: Envelope,
  receivedAt: { epochMs: number; iso: string },
  ctx: DecodeContext,
  dead: DeadFn,
): RowsOf[K][] {
  const rows: RowsOf[K][] = []
  if (envelope.type === 'assignment') {
    for (const item of envelope.assignments as unknown[]) {
      const r = validateAssignment(item)
      if (!r.ok) dead(WriterErrorCode.INVALID_ITEM, 'invalid assignment', item, r.issues)
      else rows.push(r.assignment as RowsOf[K])
    }
    return rows
  }
  const oldestAllowedMs = retentionCutoff(new Date(receivedAt.epochMs), ctx.retentionMonths).getTime()
  for (const item of envelope.readings as unknown[]) {
    const r = validateReading(item, { nowMs: receivedAt.epochMs, maxFutureSkewMs: ctx.maxFutureSkewMs })
    if (!r.ok) {
      dead(WriterErrorCode.INVALID_ITEM, 'invalid reading', item, r.issues)
    } else if (r.type !== kind) {
      dead(WriterErrorCode.WRONG_TOPIC, `a ${r.type} reading in a ${kind} envelope`, item)
    } else if (Date.parse(r.reading.timestamp) < oldestAllowedMs) {
      dead(WriterErrorCode.EXPIRED, 'older than the history retention', item)
    } else {
      // validateReading builds a new object per call: it becomes the row (no copy per reading).
      const row = r.reading as RowsOf[K] & { receivedAt?: string | null }
      row.receivedAt = receivedAt.iso
      rows.push(row)
    }
  }
  return rows
}

/**
 * Decodes and re-validates the messages of one topic-partition batch. Undecodable messages and
 * invalid items become dead letters; every valid item becomes a row, grouped by message.
 */
export function decodeBatch<K extends TopicKind>(
  kind: K,
  messages: readonly MessageLike[],
  ctx: DecodeContext,
): DecodedBatch<K> {
  const out: DecodedBatch<K> = { messages: [], deadLetters: [] }
  for (const message of messages) {
    const key = message.key?.toString('utf8') ?? null
    const source = { topic: ctx.topic, partition: ctx.partition, offset: message.offset, key }
    const dead: DeadFn = (code, reason, payload, issues) => {
      out.deadLetters.push({
        code,
        reason,
        ...(issues ? { issues } : {}),
        source,
        payload,
        failedAt: ctx.now().toISOString(),
      })
    }
    const decoded = decodeEnvelope(message.value, headerText(message.headers?.[SCHEMA_VERSION_HEADER]))
    if (!decoded.ok) {
      const raw = message.value?.toString('utf8') ?? null
      dead(WriterErrorCode.UNDECODABLE, decoded.reason, raw?.slice(0, MAX_RAW_PAYLOAD_CHARS) ?? null)
      continue
    }
    const envelope = decoded.envelope
    if (envelope.type !== kind) {
      dead(WriterErrorCode.WRONG_TOPIC, `a ${envelope.type} envelope on the ${kind} topic`, envelope)
      continue
    }
    const receivedAt = parseTimestamp(envelope.receivedAt)
    if (!receivedAt.ok) {
      dead(WriterErrorCode.UNDECODABLE, `receivedAt ${receivedAt.reason}`, envelope)
      continue
    }
    const rows = validRows(kind, envelope, receivedAt.value, ctx, dead)
    if (rows.length > 0) out.messages.push({ offset: message.offset, key, rows })
  }
  return out
}
