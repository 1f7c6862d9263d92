import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { BadRequest, BadWindow, FreshnessUnknown } from '../errors.js'
import { meterIdsOf } from '../queries/device-aggregates.js'
import { deviceStatementAnswer } from '../queries/device-window.js'
import {
  fleetSeries,
  isoStarts,
  meterBuckets,
  METER_SERIES,
  vehicleBuckets,
  VEHICLE_SERIES,
  type FleetBucket,
  type MeterBucket,
  type VehicleBucket,
} from '../queries/series.js'
import type { Range } from '../queries/window.js'
import { errorResponses, MeterParamsSchema, VehicleParamsSchema } from '../schemas.js'
import {
  FleetSeriesSchema,
  MeterSeriesSchema,
  SeriesQuerySchema,
  VehicleSeriesSchema,
} from '../series-schemas.js'
import {
  bucketsOf,
  canonicalTimeZone,
  formatLocal,
  UnsupportedOffset,
  type Bucket,
  type BucketUnit,
} from '../time-buckets.js'
import { resolveWindow } from '../window-params.js'

export interface SeriesOptions {
  maxWindowDays: number
  now: () => number
  /** Most points one answer may hold (ANALYTICS_SERIES_MAX_POINTS). */
  maxPoints: number
}

interface SeriesRequest {
  window: Range
  unit: BucketUnit
  tz: string
  buckets: Bucket[]
}

/** Window, zone and buckets of a series request, or a 400 naming the parameter. */
export function resolveSeries(
  query: { from?: string; to?: string; bucket?: BucketUnit; tz?: string },
  opts: SeriesOptions,
): SeriesRequest {
  const window = resolveWindow(query, opts.now(), opts.maxWindowDays)
  const unit = query.bucket ?? 'hour'
  const tz = canonicalTimeZone(query.tz ?? 'UTC')
  if (tz === undefined) {
    throw new BadRequest(`tz: unknown time zone "${query.tz}"; use an IANA name such as Europe/Berlin or UTC`)
  }
  let buckets: Bucket[]
  try {
    buckets = bucketsOf(tz, unit, window.from.getTime(), window.to.getTime())
  } catch (err) {
    if (err instanceof UnsupportedOffset) throw new BadRequest(`tz: ${err.message}`)
    throw err
  }
  if (buckets.length > opts.maxPoints) {
    throw new BadWindow(
      `bucket: this window holds ${buckets.length} ${unit} buckets, more than the limit of ${opts.maxPoints} points; narrow the window (from/to) or use a larger bucket`,
    )
  }
  return { window, unit, tz, buckets }
}

const num = (v: string | null | undefined) => (v === null || v === undefined ? null : Number(v))
const ratio = (num: number, den: number) => (den > 0 ? num / den : null)

function frame(req: SeriesRequest) {
  return {
    bucket: req.unit,
    tz: req.tz,
    pointTimes: req.buckets.map((b) => ({
      start: formatLocal(req.tz, b.start),
      end: formatLocal(req.tz, b.end),
    })),
    starts: req.buckets.map((b) => b.start),
  }
}

const vehicleSeriesRouteSchema = {
  operationId: 'getVehicleSeries',
  tags: ['series'],
  summary: "A vehicle's AC, DC, efficiency, battery temperature and SoC per time bucket",
  description:
    'Each point equals the aggregate over raw history of its bucket (clipped to the window). AC is counted as in the performance route: the meters assigned to the vehicle, clipped to their assignment intervals.',
  params: VehicleParamsSchema,
  querystring: SeriesQuerySchema,
  response: { 200: VehicleSeriesSchema, ...errorResponses },
}

const meterSeriesRouteSchema = {
  operationId: 'getMeterSeries',
  tags: ['series'],
  summary: "A meter's AC energy, voltage and readings per time bucket",
  description: 'Each point equals the aggregate over raw history of its bucket (clipped to the window).',
  params: MeterParamsSchema,
  querystring: SeriesQuerySchema,
  response: { 200: MeterSeriesSchema, ...errorResponses },
}

const fleetSeriesRouteSchema = {
  operationId: 'getFleetSeries',
  tags: ['series'],
  summary: 'Fleet AC, DC, efficiency, battery temperature and readings per time bucket',
  description:
    'Whole minutes come from the fleet minute rollups, the partial minutes at both ends of the window from history, as the fleet summary computes them.',
  querystring: SeriesQuerySchema,
  response: { 200: FleetSeriesSchema, ...errorResponses },
}

type PointTimes = ReturnType<typeof frame>['pointTimes'][number]

function vehiclePoint(times: PointTimes, vb: VehicleBucket | undefined, mb: MeterBucket | undefined) {
  const dc = Number(vb?.kwh ?? 0)
  const ac = Number(mb?.kwh ?? 0)
  const n = vb?.readings ?? 0
  return {
    ...times,
    totalAcConsumed: ac,
    totalDcDelivered: dc,
    efficiencyRatio: ratio(dc, ac),
    batteryTemp: { avg: n > 0 ? Number(vb!.tempSum) / n : null, max: num(vb?.tempMax) },
    soc: { first: num(vb?.firstSoc), last: num(vb?.lastSoc) },
    readings: { vehicle: n, meter: mb?.readings ?? 0 },
  }
}

function meterPoint(times: PointTimes, mb: MeterBucket | undefined) {
  const n = mb?.readings ?? 0
  return {
    ...times,
    totalAcConsumed: Number(mb?.kwh ?? 0),
    voltage: {
      avg: n > 0 ? Number(mb!.voltageSum) / n : null,
      min: num(mb?.voltageMin),
      max: num(mb?.voltageMax),
    },
    readings: n,
  }
}

function fleetPoint(times: PointTimes, fb: FleetBucket | undefined) {
  const ac = Number(fb?.ac ?? 0)
  const dc = Number(fb?.dc ?? 0)
  const vn = fb?.vehicleReadings ?? 0
  return {
    ...times,
    totalAcConsumed: ac,
    totalDcDelivered: dc,
    efficiencyRatio: ratio(dc, ac),
    avgBatteryTemp: vn > 0 ? Number(fb!.tempSum) / vn : null,
    readings: { meter: fb?.meterReadings ?? 0, vehicle: vn },
  }
}

/** Time series per vehicle, per meter and for the fleet, in calendar buckets of an IANA zone. */
const seriesRoutes: FastifyPluginAsyncTypebox<SeriesOptions> = async (app, opts) => {
  // One statement each (queries/series.ts): one round trip, one snapshot.
  app.get('/analytics/vehicles/:vehicleId/series', { schema: vehicleSeriesRouteSchema }, async (req) => {
    const { vehicleId } = req.params
    const series = resolveSeries(req.query, opts)
    const { bucket, tz, pointTimes, starts } = frame(series)
    return deviceStatementAnswer(
      app.replica,
      'vehicle',
      vehicleId,
      series.window,
      VEHICLE_SERIES,
      (row) => {
        const v = vehicleBuckets(row.v)
        const m = meterBuckets(row.m)
        return {
          vehicleId,
          meterIds: meterIdsOf(row),
          bucket,
          tz,
          points: pointTimes.map((times, i) => vehiclePoint(times, v.get(i), m.get(i))),
        }
      },
      [isoStarts(starts)],
    )
  })

  app.get('/analytics/meters/:meterId/series', { schema: meterSeriesRouteSchema }, async (req) => {
    const { meterId } = req.params
    const series = resolveSeries(req.query, opts)
    const { bucket, tz, pointTimes, starts } = frame(series)
    return deviceStatementAnswer(
      app.replica,
      'meter',
      meterId,
      series.window,
      METER_SERIES,
      (row) => {
        const m = meterBuckets(row.m)
        return { meterId, bucket, tz, points: pointTimes.map((times, i) => meterPoint(times, m.get(i))) }
      },
      [isoStarts(starts)],
    )
  })

  app.get('/analytics/fleet/series', { schema: fleetSeriesRouteSchema }, async (req) => {
    const series = resolveSeries(req.query, opts)
    const { bucket, tz, pointTimes, starts } = frame(series)
    const f = await fleetSeries(app.replica, series.window, starts)
    // A replica that has replayed nothing since it started and has no heartbeat row cannot tell.
    if (f.asOf === null) throw new FreshnessUnknown()
    return {
      bucket,
      tz,
      windowStart: series.window.from.toISOString(),
      windowEnd: series.window.to.toISOString(),
      asOf: f.asOf.toISOString(),
      points: pointTimes.map((times, i) => fleetPoint(times, f.buckets.get(i))),
    }
  })
}

export default seriesRoutes
