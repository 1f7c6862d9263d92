import { AssignmentSchema, MeterReadingSchema, VehicleReadingSchema } from '@energy-ingest/contracts'
import type { OpenApiOptions } from '@energy-ingest/service-kit'

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

/** The gateway's OpenAPI document: its description, tags and the contract schemas it refers to. */
export function openapiOptions(ui: boolean): OpenApiOptions {
  return {
    title: 'Energy ingest gateway',
    description: DESCRIPTION,
    tags: {
      ingest: 'Readings in: one, a batch, or an OCPP payload',
      fleet: 'Which meter a vehicle charges from',
    },
    schemas: [MeterReadingSchema, VehicleReadingSchema, AssignmentSchema],
    ui,
  }
}
