import { deviceIdOf, detectReadingType, validateReading } from '@energy-ingest/contracts'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { DeviceForbidden, InvalidReading, describeIssues, withIssues } from '../errors.js'
import { readingRecord } from '../publish/pack.js'
import { IngestAcceptedSchema, ReadingRef, errorResponses, handlerValidated } from '../schemas.js'
import { readingTimeRules, type ReadingTimeOptions } from '../time-rules.js'

export interface IngestRouteOptions {
  time: ReadingTimeOptions
  bodyLimitBytes: number
}

/** POST /ingest: one reading, meter or vehicle, in either payload style. */
export default async function ingestRoutes(fastify: FastifyInstance, opts: IngestRouteOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { metrics, publisher, rateLimit, tokens } = app
  app.post(
    '/ingest',
    {
      bodyLimit: opts.bodyLimitBytes,
      schema: {
        operationId: 'ingestReading',
        summary: 'Ingest one reading',
        description:
          'Accepts {"type":"meter","meterId":...} or {"meterId":...} (and the vehicle equivalents). ' +
          'Energies are interval energies: kWh since the previous reading.',
        tags: ['ingest'],
        body: handlerValidated(ReadingRef),
        response: {
          202: IngestAcceptedSchema,
          ...errorResponses(400, 401, 403, 413, 415, 429, 503),
        },
      },
    },
    async (req, reply) => {
      rateLimit.chargeReadings(req.principal!, 1)
      const result = validateReading(req.body, readingTimeRules(opts.time))
      if (!result.ok) {
        const detected = detectReadingType(req.body)
        metrics.rejected.inc({ type: detected.ok ? detected.type : 'unknown', reason: 'invalid' })
        throw withIssues(new InvalidReading(describeIssues(result.issues)), result.issues)
      }
      const deviceId = deviceIdOf(result)
      if (!tokens.mayPostFor(req.principal!, result.type, deviceId)) {
        metrics.rejected.inc({ type: result.type, reason: 'forbidden' })
        throw new DeviceForbidden(`${result.type}:${deviceId}`)
      }
      try {
        await publisher.publish([readingRecord(result)])
      } catch (err) {
        metrics.rejected.inc({ type: result.type, reason: 'unavailable' })
        throw err
      }
      metrics.accepted.inc({ type: result.type })
      return reply.code(202).send({ type: result.type, deviceId, timestamp: result.reading.timestamp })
    },
  )
}
