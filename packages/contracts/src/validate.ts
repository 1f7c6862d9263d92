import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler, ValueErrorType, type TypeCheck, type ValueError } from '@sinclair/typebox/compiler'
import {
  AssignmentSchema,
  MeterReadingSchema,
  VehicleReadingSchema,
  type Assignment,
  type MeterReading,
  type ReadingType,
  type VehicleReading,
} from './schemas.js'
import { compareTimestamps, parseTimestamp, type ParsedTimestamp } from './timestamp.js'

export interface ValidationIssue {
  /** Name of the offending field (`body` for the whole object). */
  field: string
  reason: string
}

export type ValidatedReading =
  | { type: 'meter'; reading: MeterReading & { type?: never } }
  | { type: 'vehicle'; reading: VehicleReading & { type?: never } }

export type ReadingResult = ({ ok: true } & ValidatedReading) | { ok: false; issues: ValidationIssue[] }

/** Time rules; leave them out to check shape only. */
export interface TimeRules {
  /** With maxFutureSkewMs: readings later than nowMs + maxFutureSkewMs are refused. */
  nowMs?: number
  maxFutureSkewMs?: number
  /** Readings before this instant are refused: past the retention horizon (see retentionCutoff). */
  oldestAllowedMs?: number
}

const checkers = {
  meter: TypeCompiler.Compile(MeterReadingSchema),
  vehicle: TypeCompiler.Compile(VehicleReadingSchema),
  assignment: TypeCompiler.Compile(AssignmentSchema),
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Explicit `type` wins; otherwise exactly one of meterId / vehicleId decides. */
export function detectReadingType(
  body: unknown,
): { ok: true; type: ReadingType } | { ok: false; issues: ValidationIssue[] } {
  if (!isObject(body)) return { ok: false, issues: [{ field: 'body', reason: 'must be a JSON object' }] }
  if ('type' in body) {
    if (body.type === 'meter' || body.type === 'vehicle') return { ok: true, type: body.type }
    return { ok: false, issues: [{ field: 'type', reason: 'must be "meter" or "vehicle"' }] }
  }
  const hasMeter = 'meterId' in body
  const hasVehicle = 'vehicleId' in body
  if (hasMeter && hasVehicle) {
    return {
      ok: false,
      issues: [
        {
          field: 'body',
          reason: 'has both meterId and vehicleId: send one reading per object, or set "type"',
        },
      ],
    }
  }
  if (!hasMeter && !hasVehicle) {
    return {
      ok: false,
      issues: [{ field: 'body', reason: 'needs meterId (meter reading) or vehicleId (vehicle reading)' }],
    }
  }
  return { ok: true, type: hasMeter ? 'meter' : 'vehicle' }
}

function describeError(error: ValueError): string {
  if (error.type === ValueErrorType.ObjectAdditionalProperties) return 'is not a known field'
  if (error.type === ValueErrorType.ObjectRequiredProperty) return 'is required'
  const schema = error.schema as { description?: unknown; format?: unknown }
  // A timestamp's reason comes from the parser ("must be an RFC 3339 date-time with a zone…").
  if (schema.format === 'date-time' && typeof error.value === 'string') {
    const parsed = parseTimestamp(error.value)
    if (!parsed.ok) return parsed.reason
  }
  const description = schema.description
  if (error.type === ValueErrorType.StringPattern && typeof description === 'string')
    return `must be ${description}`
  return error.message.charAt(0).toLowerCase() + error.message.slice(1)
}

function schemaIssues(checker: TypeCheck<TSchema>, value: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = []
  const seen = new Set<string>()
  for (const error of checker.Errors(value)) {
    const field = error.path.replace(/^\//, '').replace(/\//g, '.') || 'body'
    if (seen.has(field)) continue
    seen.add(field)
    issues.push({ field, reason: describeError(error) })
    if (issues.length >= 10) break
  }
  return issues
}

function timeIssue(field: string, raw: string, rules: TimeRules): ParsedTimestamp | ValidationIssue {
  const parsed = parseTimestamp(raw)
  if (!parsed.ok) return { field, reason: parsed.reason }
  const { nowMs, maxFutureSkewMs, oldestAllowedMs } = rules
  if (
    nowMs !== undefined &&
    maxFutureSkewMs !== undefined &&
    parsed.value.epochMs > nowMs + maxFutureSkewMs
  ) {
    const aheadS = Math.round((parsed.value.epochMs - nowMs) / 1000)
    return { field, reason: `is ${aheadS} s in the future (at most ${maxFutureSkewMs / 1000} s allowed)` }
  }
  if (oldestAllowedMs !== undefined && parsed.value.epochMs < oldestAllowedMs) {
    return {
      field,
      reason: `is before the retention horizon (${new Date(oldestAllowedMs).toISOString()})`,
    }
  }
  return parsed.value
}

/** Detects the type of one reading, validates it, and normalises its timestamp to UTC. */
export function validateReading(body: unknown, rules: TimeRules = {}): ReadingResult {
  const detected = detectReadingType(body)
  if (!detected.ok) return detected
  const checker = checkers[detected.type]
  if (!checker.Check(body)) return { ok: false, issues: schemaIssues(checker, body) }
  const time = timeIssue('timestamp', body.timestamp, rules)
  if ('reason' in time) return { ok: false, issues: [time] }
  if (detected.type === 'meter') {
    const r = body as MeterReading
    const hasInterval = r.kwhConsumedAc !== undefined
    const hasRegister = r.energyRegisterKwh !== undefined
    if (hasInterval === hasRegister) {
      return {
        ok: false,
        issues: [
          {
            field: hasInterval ? 'energyRegisterKwh' : 'kwhConsumedAc',
            reason: hasInterval
              ? 'must not be sent with kwhConsumedAc: send exactly one of them'
              : 'is required (or energyRegisterKwh): send exactly one of them',
          },
        ],
      }
    }
    const reading: MeterReading & { type?: never } = hasInterval
      ? { meterId: r.meterId, kwhConsumedAc: r.kwhConsumedAc, voltage: r.voltage, timestamp: time.iso }
      : {
          meterId: r.meterId,
          energyRegisterKwh: r.energyRegisterKwh,
          voltage: r.voltage,
          timestamp: time.iso,
        }
    if (r.context !== undefined) reading.context = r.context
    return { ok: true, type: 'meter', reading }
  }
  const r = body as VehicleReading
  return {
    ok: true,
    type: 'vehicle',
    reading: {
      vehicleId: r.vehicleId,
      soc: r.soc,
      kwhDeliveredDc: r.kwhDeliveredDc,
      batteryTemp: r.batteryTemp,
      timestamp: time.iso,
    },
  }
}

export type AssignmentResult = { ok: true; assignment: Assignment } | { ok: false; issues: ValidationIssue[] }

/** Validates an assignment; validTo, when given, must be after validFrom. */
export function validateAssignment(body: unknown): AssignmentResult {
  if (!checkers.assignment.Check(body)) return { ok: false, issues: schemaIssues(checkers.assignment, body) }
  const from = timeIssue('validFrom', body.validFrom, {})
  if ('reason' in from) return { ok: false, issues: [from] }
  let to: string | null = null
  if (body.validTo !== undefined && body.validTo !== null) {
    const parsed = timeIssue('validTo', body.validTo, {})
    if ('reason' in parsed) return { ok: false, issues: [parsed] }
    // To the microsecond: both ends are stored as timestamptz, which keeps them.
    if (compareTimestamps(parsed, from) <= 0) {
      return { ok: false, issues: [{ field: 'validTo', reason: 'must be after validFrom' }] }
    }
    to = parsed.iso
  }
  return {
    ok: true,
    assignment: { vehicleId: body.vehicleId, meterId: body.meterId, validFrom: from.iso, validTo: to },
  }
}

/** Device id of a validated reading (the Kafka key). */
export function deviceIdOf(v: ValidatedReading): string {
  return v.type === 'meter' ? v.reading.meterId : v.reading.vehicleId
}
