import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { AssignmentSchema, MeterReadingSchema, VehicleReadingSchema } from './schemas.js'

/** Kafka header carrying the envelope version; the writer refuses versions it does not know. */
export const SCHEMA_VERSION_HEADER = 'schema-version'
export const SCHEMA_VERSION = '1'

/** An envelope of one type: version 1, when the gateway received it, and its list of items. */
const envelopeOf = <T extends string, K extends string, I extends TSchema>(type: T, key: K, item: I) =>
  Type.Object({
    v: Type.Literal(1),
    type: Type.Literal(type),
    receivedAt: Type.String({
      description: "The gateway's clock when it accepted the items (ISO 8601, UTC)",
    }),
    ...({ [key]: Type.Array(item) } as { [P in K]: ReturnType<typeof Type.Array<I>> }),
  })

/**
 * One Kafka message = the readings of one type that fall on one partition, in arrival order.
 * Packing is what lets a 2-core gateway exceed kafkajs' per-message ceiling (docs/decisions.md); the key is
 * a device id of that partition, so each device's readings stay ordered on one partition.
 */
export const TelemetryEnvelopeSchema = Type.Union([
  envelopeOf('meter', 'readings', MeterReadingSchema),
  envelopeOf('vehicle', 'readings', VehicleReadingSchema),
])
export type TelemetryEnvelope = Static<typeof TelemetryEnvelopeSchema>

export const AssignmentEnvelopeSchema = envelopeOf('assignment', 'assignments', AssignmentSchema)
export type AssignmentEnvelope = Static<typeof AssignmentEnvelopeSchema>

export const EnvelopeSchema = Type.Union([...TelemetryEnvelopeSchema.anyOf, AssignmentEnvelopeSchema], {
  $id: 'Envelope',
})
export type Envelope = Static<typeof EnvelopeSchema>

/**
 * What decodeEnvelope checks with one compiled check: the head of every envelope (`v`, `type`,
 * `receivedAt`). Its list is only checked to be an array: each item is left to the consumer, which
 * validates it on its own (one bad reading does not condemn its message), and walking the list here
 * would cost a pass over every item.
 */
export const EnvelopeHeadSchema = Type.Union(
  (['meter', 'vehicle', 'assignment'] as const).map((type) =>
    Type.Object({ v: Type.Literal(1), type: Type.Literal(type), receivedAt: Type.String() }),
  ),
)

/** Compiled once: a well-formed head costs one generated check. */
const headCheck = TypeCompiler.Compile(EnvelopeHeadSchema)

const listOf = (e: { type: string }) => (e.type === 'assignment' ? 'assignments' : 'readings')

export function encodeEnvelope(envelope: Envelope): Buffer {
  return Buffer.from(JSON.stringify(envelope), 'utf8')
}

export type DecodeResult = { ok: true; envelope: Envelope } | { ok: false; reason: string }

const TYPES: ReadonlySet<unknown> = new Set(['meter', 'vehicle', 'assignment'])

/** Why a parsed value is not an envelope frame: the first rule it breaks, in the order a reader checks. */
function frameProblem(parsed: unknown): string {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'not a JSON object'
  const e = parsed as Record<string, unknown>
  if (e.v !== 1) return `unsupported envelope version ${JSON.stringify(e.v)}`
  if (!TYPES.has(e.type)) return 'unknown envelope type'
  if (typeof e.receivedAt !== 'string') return 'receivedAt missing'
  return `${listOf(e as { type: string })} must be an array`
}

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
  if (!headCheck.Check(parsed) || !Array.isArray((parsed as Record<string, unknown>)[listOf(parsed)])) {
    return { ok: false, reason: frameProblem(parsed) }
  }
  // The items are checked by the consumer, one by one (see EnvelopeHeadSchema).
  return { ok: true, envelope: parsed as Envelope }
}

/** What the writer publishes to the dead-letter topic for a message or reading it cannot store. */
export const DeadLetterSchema = Type.Object(
  {
    reason: Type.String(),
    issues: Type.Optional(Type.Array(Type.Object({ field: Type.String(), reason: Type.String() }))),
    source: Type.Object({
      topic: Type.String(),
      partition: Type.Integer(),
      offset: Type.String(),
      key: Type.Union([Type.String(), Type.Null()]),
    }),
    payload: Type.Unknown({
      description: 'The rejected item: the reading object, or the raw message text when undecodable',
    }),
    failedAt: Type.String(),
  },
  { $id: 'DeadLetter' },
)
export type DeadLetter = Static<typeof DeadLetterSchema>
