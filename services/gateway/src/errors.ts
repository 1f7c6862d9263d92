import createError from '@fastify/error'
import type { ValidationIssue } from '@energy-ingest/contracts'

// Every error a client can see: a stable code, a status and a message template. Never reused.
export const InvalidReading = createError('INGEST_INVALID_READING', 'invalid reading: %s', 400)
export const InvalidAssignment = createError('INGEST_INVALID_ASSIGNMENT', 'invalid assignment: %s', 400)
export const BatchNotArray = createError(
  'INGEST_BATCH_NOT_ARRAY',
  'body: must be a JSON array of readings (or NDJSON, one reading per line)',
  400,
)
export const BatchAllRejected = createError(
  'INGEST_BATCH_ALL_REJECTED',
  'no valid reading in the batch: %s',
  400,
)
export const BatchTooLarge = createError(
  'INGEST_BATCH_TOO_MANY_ITEMS',
  'body: has more than %s readings, the most a batch may hold',
  413,
)
export const BatchMalformed = createError(
  'INGEST_BATCH_MALFORMED',
  'body: %s unreadable items, giving up: %s',
  400,
)
export const MalformedJson = createError('INGEST_MALFORMED_JSON', 'body: is not valid JSON (%s)', 400)
export const EmptyBody = createError('INGEST_EMPTY_BODY', 'body: is empty', 400)
export const BodyTooLarge = createError('INGEST_BODY_TOO_LARGE', 'body: larger than %s bytes', 413)
export const UnsupportedMediaType = createError(
  'INGEST_UNSUPPORTED_MEDIA_TYPE',
  'content-type: %s is not accepted here (use %s)',
  415,
)
export const Unauthorized = createError('INGEST_UNAUTHORIZED', 'authorization: %s', 401)
export const DeviceForbidden = createError(
  'INGEST_DEVICE_FORBIDDEN',
  'authorization: this token may not post for %s',
  403,
)
export const RateLimited = createError(
  'INGEST_RATE_LIMITED',
  'rate limit: %s per %s ms exceeded for this token; retry in %s s',
  429,
)
export const KafkaUnavailable = createError(
  'INGEST_KAFKA_UNAVAILABLE',
  'the message broker did not acknowledge the readings; nothing was accepted, retry later',
  503,
)
export const Overloaded = createError(
  'INGEST_OVERLOADED',
  'too many readings are waiting for the message broker; retry later',
  503,
)
export const ShuttingDown = createError(
  'INGEST_SHUTTING_DOWN',
  'the gateway is shutting down; retry later',
  503,
)
export const NotFound = createError('INGEST_NOT_FOUND', 'route %s %s does not exist', 404)

/** Validation problems travel on the error so the error handler can list them as `details`. */
export function withIssues<E extends Error>(
  err: E,
  issues: ValidationIssue[],
): E & { issues: ValidationIssue[] } {
  return Object.assign(err, { issues })
}

/** "voltage: must be <= 1000; timestamp: ..." — the human-readable part of a 400. */
export function describeIssues(issues: ValidationIssue[], limit = 3): string {
  const shown = issues.slice(0, limit).map((i) => `${i.field}: ${i.reason}`)
  if (issues.length > limit) shown.push(`and ${issues.length - limit} more`)
  return shown.join('; ')
}
