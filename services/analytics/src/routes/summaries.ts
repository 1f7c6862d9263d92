import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  METER_SUMMARY,
  VEHICLE_SUMMARY,
  meterAggregateOf,
  vehicleAggregateOf,
} from '../queries/device-aggregates.js'
import { deviceStatementAnswer } from '../queries/device-window.js'
import {
  MeterParamsSchema,
  MeterSummarySchema,
  VehicleParamsSchema,
  VehicleSummarySchema,
  WindowQuerySchema,
  errorResponses,
} from '../schemas.js'
import { resolveWindow } from '../window-params.js'

const num = (v: string | null) => (v === null ? null : Number(v))
const iso = (d: Date | null) => (d === null ? null : d.toISOString())

const meterSummaryRouteSchema = {
  operationId: 'getMeterSummary',
  tags: ['analytics'],
  summary: "A meter's AC energy, voltage statistics and readings over a window",
  params: MeterParamsSchema,
  querystring: WindowQuerySchema,
  response: { 200: MeterSummarySchema, ...errorResponses },
}

const vehicleSummaryRouteSchema = {
  operationId: 'getVehicleSummary',
  tags: ['analytics'],
  summary: "A vehicle's DC energy, state of charge, battery temperature and readings over a window",
  params: VehicleParamsSchema,
  querystring: WindowQuerySchema,
  response: { 200: VehicleSummarySchema, ...errorResponses },
}

/** Per-device summaries over a window (default: the last 24 h). */
const summaryRoutes: FastifyPluginAsyncTypebox<{ maxWindowDays: number; now: () => number }> = async (
  app,
  opts,
) => {
  app.get('/analytics/meters/:meterId', { schema: meterSummaryRouteSchema }, async (req) => {
    const { meterId } = req.params
    const window = resolveWindow(req.query, opts.now(), opts.maxWindowDays)
    return deviceStatementAnswer(app.replica, 'meter', meterId, window, METER_SUMMARY, (row) => {
      const m = meterAggregateOf(row, 'm_')
      return {
        meterId,
        totalAcConsumed: Number(m.kwh),
        voltage: {
          avg: m.readings > 0 ? Number(m.voltageSum) / m.readings : null,
          min: num(m.voltageMin),
          max: num(m.voltageMax),
        },
        readings: m.readings,
        firstReadingAt: iso(m.firstTs),
        lastReadingAt: iso(m.lastTs),
        energyFlags: { resets: m.resets, placeholders: m.placeholders, suspects: m.suspects },
        vehicleIds: row.vehicle_ids as string[],
      }
    })
  })

  app.get('/analytics/vehicles/:vehicleId', { schema: vehicleSummaryRouteSchema }, async (req) => {
    const { vehicleId } = req.params
    const window = resolveWindow(req.query, opts.now(), opts.maxWindowDays)
    return deviceStatementAnswer(app.replica, 'vehicle', vehicleId, window, VEHICLE_SUMMARY, (row) => {
      const v = vehicleAggregateOf(row, 'v_')
      return {
        vehicleId,
        totalDcDelivered: Number(v.kwh),
        soc: { first: num(v.firstSoc), last: num(v.lastSoc), min: num(v.socMin), max: num(v.socMax) },
        batteryTemp: {
          avg: v.readings > 0 ? Number(v.tempSum) / v.readings : null,
          min: num(v.tempMin),
          max: num(v.tempMax),
        },
        readings: v.readings,
        firstReadingAt: iso(v.firstTs),
        lastReadingAt: iso(v.lastTs),
      }
    })
  })
}

export default summaryRoutes
