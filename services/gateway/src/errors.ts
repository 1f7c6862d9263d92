import { defineErrors } from '@energy-ingest/service-kit'

export { describeIssues, withIssues } from '@energy-ingest/service-kit'

/** The gateway's code prefix: only errors carrying it reach a client as they are. */
export const CODE_PREFIX = 'INGEST_'

// Every error a client can see: a stable code, a status and a message template. Never reused.
export const {
  InvalidReading,
  InvalidAssignment,
  BatchNotArray,
  BatchAllRejected,
  BatchTooLarge,
  BatchMalformed,
  MalformedJson,
  EmptyBody,
  BodyTooLarge,
  UnsupportedMediaType,
  Unauthorized,
  DeviceForbidden,
  RateLimited,
  KafkaUnavailable,
  Overloaded,
  ShuttingDown,
  NotFound,
} = defineErrors('INGEST', {
  InvalidReading: ['INVALID_READING', 400, 'invalid reading: %s'],
  InvalidAssignment: ['INVALID_ASSIGNMENT', 400, 'invalid assignment: %s'],
  BatchNotArray: [
    'BATCH_NOT_ARRAY',
    400,
    'body: must be a JSON array of readings (or NDJSON, one reading per line)',
  ],
  BatchAllRejected: ['BATCH_ALL_REJECTED', 400, 'no valid reading in the batch: %s'],
  BatchTooLarge: ['BATCH_TOO_MANY_ITEMS', 413, 'body: has more than %s readings, the most a batch may hold'],
  BatchMalformed: ['BATCH_MALFORMED', 400, 'body: %s unreadable items, giving up: %s'],
  MalformedJson: ['MALFORMED_JSON', 400, 'body: is not valid JSON (%s)'],
  EmptyBody: ['EMPTY_BODY', 400, 'body: is empty'],
  BodyTooLarge: ['BODY_TOO_LARGE', 413, 'body: larger than %s bytes'],
  UnsupportedMediaType: ['UNSUPPORTED_MEDIA_TYPE', 415, 'content-type: %s is not accepted here (use %s)'],
  Unauthorized: ['UNAUTHORIZED', 401, 'authorization: %s'],
  DeviceForbidden: ['DEVICE_FORBIDDEN', 403, 'authorization: this token may not post for %s'],
  RateLimited: ['RATE_LIMITED', 429, 'rate limit: %s per %s ms exceeded for this token; retry in %s s'],
  KafkaUnavailable: [
    'KAFKA_UNAVAILABLE',
    503,
    'the message broker did not acknowledge the readings; nothing was accepted, retry later',
  ],
  Overloaded: ['OVERLOADED', 503, 'too many readings are waiting for the message broker; retry later'],
  ShuttingDown: ['SHUTTING_DOWN', 503, 'the gateway is shutting down; retry later'],
  NotFound: ['NOT_FOUND', 404, 'route %s %s does not exist'],
})
