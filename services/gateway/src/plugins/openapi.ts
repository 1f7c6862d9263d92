import {
  AssignmentSchema,
  ErrorBodySchema,
  MeterReadingSchema,
  VehicleReadingSchema,
} from '@energy-ingest/contracts'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'

const DESCRIPTION = `Ingest gateway of the energy telemetry system.

* A **202** means Kafka acknowledged the reading (acks=all). A **503** (with Retry-After) means it did
  not: nothing is known to be stored, send it again.
* Energy fields (\`kwhConsumedAc\`, \`kwhDeliveredDc\`) are **interval energies**: kWh since the
  device's previous reading, so totals over a window are sums.
* Timestamps are RFC 3339 with a zone (\`Z\` or \`+hh:mm\`), of a UTC year from 1970 to 9999, at most
  INGEST_MAX_FUTURE_SKEW_MS ahead of the gateway's clock and no older than the retention horizon; they
  are stored in UTC, to the microsecond.
* Limits: requests and readings per token and window (429 with Retry-After); batch items, unreadable
  items and body size (413 / 400, the batch body is read as it arrives).
* Authorization: \`Bearer <token>\` (the scheme in any case). A device token is
  \`base64url(HMAC-SHA256(secret, "<type>:<deviceId>"))\` and may post only for that device; fleet tokens
  may post for any device and are the only ones allowed to post assignments.`

/**
 * The contract schemas are added once by $id (so routes and the OpenAPI document refer to the same
 * definitions), and the document plus its UI are served at /docs.
 */
export default fp(
  async function openapi(app, opts: { uiEnabled: boolean }) {
    for (const schema of [MeterReadingSchema, VehicleReadingSchema, AssignmentSchema, ErrorBodySchema]) {
      app.addSchema(schema)
    }
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: { title: 'Energy ingest gateway', version: '1.0.0', description: DESCRIPTION },
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        },
        security: [{ bearer: [] }],
      },
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) =>
          typeof json.$id === 'string' ? json.$id : `def-${i}`,
      },
    })
    if (opts.uiEnabled) await app.register(swaggerUi, { routePrefix: '/docs' })
  },
  { name: 'openapi', fastify: '5.x' },
)
