import { Type, type TSchema } from '@sinclair/typebox'

// Route shapes of the gateway. Reading shapes come from contracts by $id (added in plugins/openapi.ts).
const Ref = (id: string) => Type.Unsafe<unknown>({ $ref: `${id}#` })

export const ErrorRef = Ref('ErrorBody')
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

export const HealthSchema = Type.Object({ status: Type.String(), reason: Type.Optional(Type.String()) })

/** Error responses of a route, all the shared ErrorBody. */
export function errorResponses(...codes: number[]): Record<number, TSchema> {
  return Object.fromEntries(codes.map((c) => [c, ErrorRef]))
}

/**
 * Body validation of the ingest routes is contracts' validateReading (the same TypeBox schemas, one
 * precise reason per field, timestamps normalised), so Fastify's Ajv only documents these bodies.
 */
export const contractValidated = { validatorCompiler: () => () => true }
