import { FormatRegistry, Type, type Static } from '@sinclair/typebox'
import { TIMESTAMP_PATTERN, parseTimestamp } from './timestamp.js'

// TypeBox checks `format` only against formats it knows: every checker of these schemas needs it.
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (value) => parseTimestamp(value).ok)

/** Upper bound of one interval's energy: far above any charger's minute, far below an overflow. */
export const MAX_INTERVAL_KWH = 1000

export const DeviceIdSchema = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9._:-]+$',
  description: '1–64 characters from A–Z a–z 0–9 . _ : -',
})

export const TimestampSchema = Type.String({
  format: 'date-time',
  pattern: TIMESTAMP_PATTERN,
  description: 'RFC 3339 with a zone offset or Z; stored in UTC with microsecond resolution',
  examples: ['2026-01-31T12:00:00Z'],
})

const Energy = (description: string) => Type.Number({ minimum: 0, maximum: MAX_INTERVAL_KWH, description })

/** Upper bound of a cumulative energy register, kWh (a 9-digit register in kWh). */
export const MAX_REGISTER_KWH = 1_000_000_000

/** OCPP ReadingContext values (1.6 and 2.0.1 spell them the same). */
export const READING_CONTEXTS = [
  'Interruption.Begin',
  'Interruption.End',
  'Other',
  'Sample.Clock',
  'Sample.Periodic',
  'Transaction.Begin',
  'Transaction.End',
  'Trigger',
] as const

export const MeterReadingSchema = Type.Object(
  {
    type: Type.Optional(Type.Literal('meter')),
    meterId: DeviceIdSchema,
    kwhConsumedAc: Type.Optional(
      Energy(
        'Interval energy: AC energy drawn from the grid in this reporting interval (kWh since the ' +
          'previous reading). Exactly one of kwhConsumedAc and energyRegisterKwh.',
      ),
    ),
    energyRegisterKwh: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: MAX_REGISTER_KWH,
        description:
          "Cumulative energy register, kWh (OCPP Energy.Active.Import.Register). The reading's energy " +
          "is derived by the writer: its increase over the meter's previous register reading in time " +
          'order; a decrease is a reset (the energy is the register value), a drop that the next ' +
          'reading undoes is a placeholder (no energy), the first reading has none, and an increase ' +
          'above the power ceiling (400 kW by default) is suspect and not counted. Exactly one of ' +
          'kwhConsumedAc and energyRegisterKwh.',
      }),
    ),
    voltage: Type.Number({ minimum: 0, maximum: 1000, description: 'Grid voltage, V' }),
    timestamp: TimestampSchema,
    context: Type.Optional(
      Type.Union(
        READING_CONTEXTS.map((c) => Type.Literal(c)),
        { description: 'OCPP ReadingContext of the sample, kept with the reading' },
      ),
    ),
  },
  {
    $id: 'MeterReading',
    additionalProperties: false,
    description:
      'A smart-meter reading (grid side): interval energy (kwhConsumedAc) or a cumulative register ' +
      '(energyRegisterKwh), exactly one of the two',
  },
)
export type MeterReading = Static<typeof MeterReadingSchema>

export const VehicleReadingSchema = Type.Object(
  {
    type: Type.Optional(Type.Literal('vehicle')),
    vehicleId: DeviceIdSchema,
    soc: Type.Number({ minimum: 0, maximum: 100, description: 'State of charge, %' }),
    kwhDeliveredDc: Energy(
      'DC energy delivered into the battery in this reporting interval (kWh since the previous reading)',
    ),
    batteryTemp: Type.Number({ minimum: -60, maximum: 120, description: 'Battery temperature, °C' }),
    timestamp: TimestampSchema,
  },
  { $id: 'VehicleReading', additionalProperties: false, description: 'A vehicle reading (battery side)' },
)
export type VehicleReading = Static<typeof VehicleReadingSchema>

export const AssignmentSchema = Type.Object(
  {
    vehicleId: DeviceIdSchema,
    meterId: DeviceIdSchema,
    validFrom: TimestampSchema,
    validTo: Type.Optional(
      Type.Union([TimestampSchema, Type.Null()], { description: 'null or absent: open' }),
    ),
  },
  {
    $id: 'Assignment',
    additionalProperties: false,
    description: 'The meter a vehicle charges from, from validFrom (inclusive) to validTo (exclusive)',
  },
)
export type Assignment = Static<typeof AssignmentSchema>

export type ReadingType = 'meter' | 'vehicle'
export type Reading = MeterReading | VehicleReading

/** The error body every service answers with. */
export const ErrorBodySchema = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ description: 'Stable machine-readable code, e.g. INGEST_INVALID_READING' }),
    error: Type.String({ description: 'HTTP status text' }),
    message: Type.String({ description: 'Human-readable reason naming the offending field' }),
    details: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), reason: Type.String() }), {
        description: 'One entry per problem found',
      }),
    ),
  },
  { $id: 'ErrorBody' },
)
export type ErrorBody = Static<typeof ErrorBodySchema>
