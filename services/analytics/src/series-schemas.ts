// Request and response schemas of the time-series routes (routes/series.ts).
import { Type } from '@sinclair/typebox'

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()])
const Time = (description: string) => Type.String({ format: 'date-time', description })
const Kwh = (description: string) =>
  Type.Number({ description: `${description}, kWh (sum of interval energies)` })

export const SeriesQuerySchema = Type.Object(
  {
    from: Type.Optional(
      Type.String({ description: 'Window start, RFC 3339 with a zone (default: to - 24 h)' }),
    ),
    to: Type.Optional(Type.String({ description: 'Window end, exclusive (default: now, or from + 24 h)' })),
    bucket: Type.Optional(
      Type.Union([Type.Literal('15m'), Type.Literal('hour'), Type.Literal('day')], {
        default: 'hour',
        description:
          'Bucket size on the local clock of `tz`: 15 minutes, hours (the repeated hour of a DST fall-back is two buckets), or days from local midnight (23 or 25 h across a DST change)',
      }),
    ),
    tz: Type.Optional(
      Type.String({
        default: 'UTC',
        maxLength: 64,
        description: 'IANA time zone of the buckets, e.g. Europe/Berlin (default UTC)',
      }),
    ),
  },
  { additionalProperties: false },
)

const seriesFields = {
  bucket: Type.Union([Type.Literal('15m'), Type.Literal('hour'), Type.Literal('day')]),
  tz: Type.String({ description: 'Canonical name of the time zone' }),
  windowStart: Time('Inclusive start of the window'),
  windowEnd: Time('Exclusive end of the window'),
  asOf: Time("Commit time of the last transaction the replica replayed: the data's freshness"),
}

const pointFields = {
  start: Time(
    "Bucket start on the zone's local clock, with its offset (the first point's start may precede windowStart)",
  ),
  end: Time('Bucket end, exclusive (the last point may end after windowEnd; only the window is counted)'),
}

const pointsOf = <T extends ReturnType<typeof Type.Object>>(point: T) =>
  Type.Array(point, {
    description:
      'One point per bucket that meets the window, in time order, empty buckets included; the first and last count only their part inside the window',
  })

export const VehicleSeriesSchema = Type.Object({
  vehicleId: Type.String(),
  meterIds: Type.Array(Type.String(), {
    description: 'Meters whose AC was counted (assignments clipped to the window, as the performance route)',
  }),
  ...seriesFields,
  points: pointsOf(
    Type.Object({
      ...pointFields,
      totalAcConsumed: Kwh('AC of the counted meters inside their assignment intervals'),
      totalDcDelivered: Kwh('DC delivered into the battery'),
      efficiencyRatio: Nullable(Type.Number({ description: 'DC / AC; null when AC is 0' })),
      batteryTemp: Type.Object({
        avg: Nullable(Type.Number({ description: 'Mean battery temperature, °C' })),
        max: Nullable(Type.Number({ description: 'Highest battery temperature, °C' })),
      }),
      soc: Type.Object({
        first: Nullable(Type.Number({ description: 'SoC of the first reading in the bucket, %' })),
        last: Nullable(Type.Number({ description: 'SoC of the last reading in the bucket, %' })),
      }),
      readings: Type.Object({ vehicle: Type.Integer(), meter: Type.Integer() }),
    }),
  ),
})

export const MeterSeriesSchema = Type.Object({
  meterId: Type.String(),
  ...seriesFields,
  points: pointsOf(
    Type.Object({
      ...pointFields,
      totalAcConsumed: Kwh('AC drawn from the grid'),
      voltage: Type.Object({
        avg: Nullable(Type.Number({ description: 'Mean, V' })),
        min: Nullable(Type.Number({ description: 'Minimum, V' })),
        max: Nullable(Type.Number({ description: 'Maximum, V' })),
      }),
      readings: Type.Integer(),
    }),
  ),
})

export const FleetSeriesSchema = Type.Object({
  ...seriesFields,
  points: pointsOf(
    Type.Object({
      ...pointFields,
      totalAcConsumed: Kwh('AC drawn by all meters'),
      totalDcDelivered: Kwh('DC delivered to all vehicles'),
      efficiencyRatio: Nullable(Type.Number({ description: 'Fleet DC / fleet AC; null when AC is 0' })),
      avgBatteryTemp: Nullable(Type.Number({ description: '°C over all vehicle readings' })),
      readings: Type.Object({ meter: Type.Integer(), vehicle: Type.Integer() }),
    }),
  ),
})
