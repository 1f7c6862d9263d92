import { DeviceIdSchema } from '@energy-ingest/contracts'
import { errorResponses as kitErrorResponses } from '@energy-ingest/service-kit'
import { Type } from '@sinclair/typebox'

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()])
const Time = (description: string) => Type.String({ format: 'date-time', description })
const NullableTime = (description: string) => Type.Union([Time(description), Type.Null()])
const Kwh = (description: string) =>
  Type.Number({ description: `${description}, kWh (sum of interval energies)` })

export const WindowQuerySchema = Type.Object(
  {
    from: Type.Optional(
      Type.String({ description: 'Window start, RFC 3339 with a zone (default: to - 24 h)' }),
    ),
    to: Type.Optional(Type.String({ description: 'Window end, exclusive (default: now, or from + 24 h)' })),
  },
  { additionalProperties: false },
)

export const VehicleParamsSchema = Type.Object({ vehicleId: DeviceIdSchema }, { additionalProperties: false })
export const MeterParamsSchema = Type.Object({ meterId: DeviceIdSchema }, { additionalProperties: false })

const windowFields = {
  windowStart: Time('Inclusive start of the window'),
  windowEnd: Time('Exclusive end of the window'),
  asOf: Time(
    "The data's freshness: everything committed before it is included (the later of the replica's last replayed commit and its replayed writer heartbeat)",
  ),
}

export const PerformanceSchema = Type.Object({
  vehicleId: Type.String(),
  meterIds: Type.Array(Type.String(), {
    description: 'Meters whose AC was counted (assignments clipped to the window)',
  }),
  ...windowFields,
  totalAcConsumed: Kwh('AC drawn from the grid by the counted meters inside their assignment intervals'),
  totalDcDelivered: Kwh('DC delivered into the battery'),
  efficiencyRatio: Nullable(Type.Number({ description: 'DC / AC; null when AC is 0' })),
  avgBatteryTemp: Nullable(Type.Number({ description: 'Mean battery temperature of the readings, °C' })),
  readings: Type.Object({ vehicle: Type.Integer(), meter: Type.Integer() }),
})

const Stats = (unit: string) =>
  Type.Object({
    avg: Nullable(Type.Number({ description: `Mean, ${unit}` })),
    min: Nullable(Type.Number({ description: `Minimum, ${unit}` })),
    max: Nullable(Type.Number({ description: `Maximum, ${unit}` })),
  })

export const MeterSummarySchema = Type.Object({
  meterId: Type.String(),
  ...windowFields,
  totalAcConsumed: Kwh('AC drawn from the grid'),
  voltage: Stats('V'),
  readings: Type.Integer(),
  firstReadingAt: NullableTime('Timestamp of the first reading in the window'),
  lastReadingAt: NullableTime('Timestamp of the last reading in the window'),
  energyFlags: Type.Object(
    {
      resets: Type.Integer({ description: 'Register readings that were a reset (energy = register value)' }),
      placeholders: Type.Integer({
        description: 'Register readings skipped as placeholders (a drop the next reading undid)',
      }),
      suspects: Type.Integer({
        description: 'Register readings whose increase exceeded the power ceiling: not counted in totals',
      }),
    },
    {
      description:
        'Counts of the flags the energy derivation set on register readings in the window (all 0 for ' +
        'an interval meter)',
    },
  ),
  vehicleIds: Type.Array(Type.String(), { description: 'Vehicles assigned to this meter during the window' }),
})

export const VehicleSummarySchema = Type.Object({
  vehicleId: Type.String(),
  ...windowFields,
  totalDcDelivered: Kwh('DC delivered into the battery'),
  soc: Type.Object({
    first: Nullable(Type.Number({ description: 'SoC of the first reading, %' })),
    last: Nullable(Type.Number({ description: 'SoC of the last reading, %' })),
    min: Nullable(Type.Number()),
    max: Nullable(Type.Number()),
  }),
  batteryTemp: Stats('°C'),
  readings: Type.Integer(),
  firstReadingAt: NullableTime('Timestamp of the first reading in the window'),
  lastReadingAt: NullableTime('Timestamp of the last reading in the window'),
})

export const FleetSummarySchema = Type.Object({
  ...windowFields,
  meters: Type.Object({
    active: Type.Integer({ description: 'Meters with at least one reading in the window' }),
    totalAcConsumed: Kwh('AC drawn by all meters'),
    readings: Type.Integer(),
  }),
  vehicles: Type.Object({
    active: Type.Integer({ description: 'Vehicles with at least one reading in the window' }),
    totalDcDelivered: Kwh('DC delivered to all vehicles'),
    readings: Type.Integer(),
    avgBatteryTemp: Nullable(Type.Number({ description: '°C over all vehicle readings' })),
  }),
  fleetEfficiencyRatio: Nullable(Type.Number({ description: 'Fleet DC / fleet AC; null when AC is 0' })),
  vehiclesBelowThreshold: Type.Integer({
    description:
      'Vehicles whose efficiency over the last 24 closed hours is below the alert threshold (as /efficiency/alerts)',
  }),
  threshold: Type.Number(),
})

export const AlertsQuerySchema = Type.Object(
  {
    below: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 10, description: 'Efficiency threshold (default 0.85)' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
  },
  { additionalProperties: false },
)

export const AlertsSchema = Type.Object({
  windowStart: Time('Start of the 24 closed hours examined'),
  windowEnd: Time('End (exclusive): the older rollup watermark, at most the current hour'),
  asOf: windowFields.asOf,
  threshold: Type.Number(),
  total: Type.Integer({ description: 'Vehicles below the threshold' }),
  limit: Type.Integer(),
  offset: Type.Integer(),
  items: Type.Array(
    Type.Object({
      vehicleId: Type.String(),
      efficiencyRatio: Type.Number(),
      totalDcDelivered: Type.Number(),
      totalAcConsumed: Type.Number(),
    }),
    { description: 'Worst first (lowest ratio), then by vehicle id' },
  ),
})

export const MeterLiveSchema = Type.Object({
  meterId: Type.String(),
  timestamp: Time('Timestamp of the newest reading'),
  kwhConsumedAc: Type.Number(),
  voltage: Type.Number(),
  receivedAt: NullableTime('When the gateway received it'),
})

export const VehicleLiveSchema = Type.Object({
  vehicleId: Type.String(),
  timestamp: Time('Timestamp of the newest reading'),
  soc: Type.Number(),
  kwhDeliveredDc: Type.Number(),
  batteryTemp: Type.Number(),
  receivedAt: NullableTime('When the gateway received it'),
})

/** The error answers of every analytics route: the shared error body, by reference. */
export const errorResponses = kitErrorResponses(400, 401, 404, 503)
