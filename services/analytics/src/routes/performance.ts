import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  VEHICLE_PERFORMANCE,
  meterAggregateOf,
  meterIdsOf,
  vehicleAggregateOf,
} from '../queries/device-aggregates.js'
import { deviceStatementAnswer } from '../queries/device-window.js'
import { PerformanceSchema, VehicleParamsSchema, WindowQuerySchema, errorResponses } from '../schemas.js'
import { resolveWindow } from '../window-params.js'

const ratio = (num: number, den: number) => (den > 0 ? num / den : null)

/** GET /analytics/performance/:vehicleId: a vehicle's 24 h performance. */
const performanceRoutes: FastifyPluginAsyncTypebox<{ maxWindowDays: number; now: () => number }> = async (
  app,
  opts,
) => {
  app.get(
    '/analytics/performance/:vehicleId',
    {
      schema: {
        operationId: 'getVehiclePerformance',
        tags: ['analytics'],
        summary: 'AC consumed, DC delivered, efficiency and battery temperature of a vehicle over a window',
        params: VehicleParamsSchema,
        querystring: WindowQuerySchema,
        response: { 200: PerformanceSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { vehicleId } = req.params
      const window = resolveWindow(req.query, opts.now(), opts.maxWindowDays)
      return deviceStatementAnswer(app.replica, 'vehicle', vehicleId, window, VEHICLE_PERFORMANCE, (row) => {
        const vehicle = vehicleAggregateOf(row, 'v_')
        const meter = meterAggregateOf(row, 'm_')
        const ac = Number(meter.kwh)
        const dc = Number(vehicle.kwh)
        return {
          vehicleId,
          meterIds: meterIdsOf(row),
          totalAcConsumed: ac,
          totalDcDelivered: dc,
          efficiencyRatio: ratio(dc, ac),
          avgBatteryTemp: vehicle.readings > 0 ? Number(vehicle.tempSum) / vehicle.readings : null,
          readings: { vehicle: vehicle.readings, meter: meter.readings },
        }
      })
    },
  )
}

export default performanceRoutes
