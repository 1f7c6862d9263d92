import { DeviceIdSchema, validateReading, type ValidationIssue } from '@energy-ingest/contracts'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { BatchAllRejected, DeviceForbidden, InvalidReading, withIssues } from '../errors.js'
import {
  OCPP_VERSIONS,
  checkOcppSchema,
  mapMeterValues,
  type MappingResult,
  type OcppAction,
  type OcppVersion,
} from '../ocpp/meter-values.js'
import { readingRecord, type OutRecord } from '../publish/pack.js'
import { errorResponses, handlerValidated } from '../schemas.js'
import { readingTimeRules, type ReadingTimeOptions } from '../time-rules.js'

export interface OcppRouteOptions {
  time: ReadingTimeOptions
  bodyLimitBytes: number
}

const OcppAcceptedSchema = Type.Object({
  accepted: Type.Integer({ description: 'Readings published (one per meterValue with an energy register)' }),
  ignored: Type.Integer({
    description: 'Sampled values not modelled (other measurands, signed data, units)',
  }),
  rejected: Type.Array(
    Type.Object({
      index: Type.Integer({ description: 'Index in meterValue' }),
      issues: Type.Array(Type.Object({ field: Type.String(), reason: Type.String() })),
    }),
  ),
})

const ocppRouteSchema = {
  operationId: 'ingestOcppMeterValues',
  summary: 'Ingest an OCPP MeterValues (1.6, 2.0.1) or TransactionEvent (2.0.1) payload',
  description:
    'The JSON payload (the third element of the OCPP CALL) of a 1.6 `MeterValues.req`, or of a ' +
    '2.0.1 `MeterValuesRequest` or `TransactionEventRequest`. Header `ocpp-version`: `1.6` or ' +
    '`2.0.1` (required); header `ocpp-action`: `MeterValues` (default) or `TransactionEvent` ' +
    '(2.0.1). The payload is validated against the official OCPP JSON schema (400 naming the path). ' +
    'Each meterValue with an `Energy.Active.Import.Register` sample becomes one register reading of ' +
    'meter `<chargePointId>:<connectorId|evseId>`; see the gateway README for the mapping. A fleet ' +
    'token, or the device token of meter `<chargePointId>`.',
  tags: ['ingest'],
  params: handlerValidated(Type.Object({ chargePointId: DeviceIdSchema })),
  headers: handlerValidated(
    Type.Object({
      'ocpp-version': Type.Union(OCPP_VERSIONS.map((v) => Type.Literal(v))),
      'ocpp-action': Type.Optional(
        Type.Union([Type.Literal('MeterValues'), Type.Literal('TransactionEvent')]),
      ),
    }),
  ),
  body: handlerValidated(
    Type.Object({}, { additionalProperties: true, description: 'OCPP request payload' }),
  ),
  response: { 202: OcppAcceptedSchema, ...errorResponses(400, 401, 403, 413, 415, 429, 503) },
}

type Rejected = { index: number; issues: ValidationIssue[] }

/** The version and action headers, checked here because the route's schema is handler-validated. */
function ocppHeaders(req: FastifyRequest): { version: OcppVersion; action: OcppAction } {
  const headers = req.headers as Record<string, string | undefined>
  const version = headers['ocpp-version'] as OcppVersion | undefined
  const action = (headers['ocpp-action'] ?? 'MeterValues') as OcppAction
  if (version === undefined || !OCPP_VERSIONS.includes(version)) {
    throw withIssues(new InvalidReading('headers/ocpp-version: must be "1.6" or "2.0.1"'), [
      { field: 'headers/ocpp-version', reason: 'must be "1.6" or "2.0.1"' },
    ])
  }
  return { version, action }
}

/** A 400 naming the first place where the payload breaks the OCPP JSON schema. */
function checkPayload(version: OcppVersion, action: OcppAction, body: unknown): void {
  const problems = checkOcppSchema(version, action, body)
  if (problems) {
    const details = problems.map((p) => ({ field: `body${p.path}`, reason: p.reason }))
    throw withIssues(new InvalidReading(`${details[0]!.field}: ${details[0]!.reason}`), details)
  }
}

/** Validates the mapped readings like any other: valid ones become records, the rest join `rejected`. */
function validateMapped(
  app: FastifyInstance,
  mapped: MappingResult,
  time: ReadingTimeOptions,
): { records: OutRecord[]; rejected: Rejected[] } {
  const rules = readingTimeRules(time)
  const records: OutRecord[] = []
  const rejected: Rejected[] = [...mapped.rejected]
  for (const { index, reading } of mapped.readings) {
    const result = validateReading(reading, rules)
    if (!result.ok) {
      rejected.push({
        index,
        issues: result.issues.map((i) => ({ field: `meterValue/${index}/${i.field}`, reason: i.reason })),
      })
      app.metrics.rejected.inc({ type: 'meter', reason: 'invalid' })
      continue
    }
    records.push(readingRecord(result))
  }
  rejected.sort((a, b) => a.index - b.index)
  return { records, rejected }
}

/** Publishes the records; with none to publish, a 400 when some meterValue was refused. */
async function publishOrRefuse(
  app: FastifyInstance,
  records: OutRecord[],
  rejected: Rejected[],
): Promise<void> {
  const { metrics, publisher } = app
  if (records.length > 0) {
    try {
      await publisher.publish(records)
    } catch (err) {
      metrics.rejected.inc({ type: 'meter', reason: 'unavailable' }, records.length)
      throw err
    }
    metrics.accepted.inc({ type: 'meter' }, records.length)
  } else if (rejected.length > 0) {
    const details = rejected.flatMap((r) => r.issues)
    throw withIssues(new BatchAllRejected(`${details[0]!.field}: ${details[0]!.reason}`), details)
  }
}

/** POST /ingest/ocpp/:chargePointId: the JSON payload of an OCPP MeterValues / TransactionEvent request. */
export default async function ocppRoutes(fastify: FastifyInstance, opts: OcppRouteOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { rateLimit, tokens } = app
  app.post(
    '/ingest/ocpp/:chargePointId',
    { bodyLimit: opts.bodyLimitBytes, schema: ocppRouteSchema },
    async (req, reply) => {
      const chargePointId = (req.params as { chargePointId: string }).chargePointId
      const { version, action } = ocppHeaders(req)
      if (!/^[A-Za-z0-9._:-]{1,64}$/.test(chargePointId)) {
        throw new InvalidReading('params/chargePointId: must be 1–64 characters from A–Z a–z 0–9 . _ : -')
      }
      const principal = req.principal!
      if (!tokens.mayPostFor(principal, 'meter', chargePointId)) {
        throw new DeviceForbidden(`meter:${chargePointId}`)
      }
      checkPayload(version, action, req.body)
      const mapped = mapMeterValues(version, action, chargePointId, req.body as Record<string, unknown>)
      rateLimit.chargeReadings(principal, Math.max(1, mapped.readings.length))
      const { records, rejected } = validateMapped(app, mapped, opts.time)
      await publishOrRefuse(app, records, rejected)
      return reply.code(202).send({ accepted: records.length, ignored: mapped.ignored, rejected })
    },
  )
}
