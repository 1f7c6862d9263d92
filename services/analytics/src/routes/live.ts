import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DeviceNotFound } from '../errors.js'
import { meterLive, vehicleLive } from '../queries/live.js'
import {
  MeterLiveSchema,
  MeterParamsSchema,
  VehicleLiveSchema,
  VehicleParamsSchema,
  errorResponses,
} from '../schemas.js'

/** The newest stored reading of a device. */
const liveRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/vehicles/:vehicleId/live',
    {
      schema: {
        operationId: 'getVehicleLive',
        tags: ['live'],
        summary: "A vehicle's newest reading",
        params: VehicleParamsSchema,
        response: { 200: VehicleLiveSchema, ...errorResponses },
      },
    },
    async (req) => {
      const live = await vehicleLive(app.replica, req.params.vehicleId)
      if (!live) throw new DeviceNotFound('vehicle', req.params.vehicleId)
      return live
    },
  )
  app.get(
    '/meters/:meterId/live',
    {
      schema: {
        operationId: 'getMeterLive',
        tags: ['live'],
        summary: "A meter's newest reading",
        params: MeterParamsSchema,
        response: { 200: MeterLiveSchema, ...errorResponses },
      },
    },
    async (req) => {
      const live = await meterLive(app.replica, req.params.meterId)
      if (!live) throw new DeviceNotFound('meter', req.params.meterId)
      return live
    },
  )
}

export default liveRoutes
