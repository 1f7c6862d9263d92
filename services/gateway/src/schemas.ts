import { Ref } from '@energy-ingest/service-kit'
import { Kind, Type, type TSchema, type TUnknown } from '@sinclair/typebox'

export { errorResponses } from '@energy-ingest/service-kit'

/**
 * A request part its handler validates with the contracts' validators (type detection first, time
 * rules, one precise reason per field, a result per batch item): the schema documents the part in
 * the OpenAPI document, and TypeBox's compiler takes it as it is (its kind is Unknown).
 */
export function handlerValidated(schema: TSchema): TUnknown {
  return { ...schema, [Kind]: 'Unknown' } as TUnknown
}

// Route shapes of the gateway. Reading shapes come from contracts by $id (added in plugins/openapi.ts).
export const ReadingRef = Type.Union([Ref('MeterReading'), Ref('VehicleReading')], {
  description:
    'A meter or a vehicle reading. "type" wins when present; otherwise exactly one of meterId / vehicleId decides.',
})
export const AssignmentRef = Ref('Assignment')

export const IngestAcceptedSchema = Type.Object({
  type: Type.Union([Type.Literal('meter'), Type.Literal('vehicle')]),
  deviceId: Type.String(),
  timestamp: Type.String({ description: 'The reading timestamp as stored (UTC)' }),
})

export const RejectedItemSchema = Type.Object({
  index: Type.Integer({ description: '0-based position of the item in the batch' }),
  issues: Type.Array(Type.Object({ field: Type.String(), reason: Type.String() })),
})

export const BatchAcceptedSchema = Type.Object({
  accepted: Type.Integer({ description: 'Readings acknowledged by Kafka' }),
  rejected: Type.Array(RejectedItemSchema),
})

export const AssignmentAcceptedSchema = Type.Object({
  vehicleId: Type.String(),
  meterId: Type.String(),
  validFrom: Type.String(),
  validTo: Type.Union([Type.String(), Type.Null()]),
})
