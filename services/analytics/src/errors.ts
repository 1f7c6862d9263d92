import { defineErrors } from '@energy-ingest/service-kit'

/** The analytics code prefix: only errors carrying it reach a client as they are. */
export const CODE_PREFIX = 'ANALYTICS_'

// Every error a client can see: a stable code, a status and a message template. Never reused.
export const {
  BadRequest,
  BadWindow,
  Unauthorized,
  DeviceNotFound,
  RouteNotFound,
  QueryTimeout,
  ReplicaConflict,
  FreshnessUnknown,
  DatabaseUnavailable,
} = defineErrors('ANALYTICS', {
  BadRequest: ['BAD_REQUEST', 400, '%s'],
  BadWindow: ['BAD_WINDOW', 400, '%s'],
  Unauthorized: ['UNAUTHORIZED', 401, 'authorization: %s'],
  DeviceNotFound: ['DEVICE_NOT_FOUND', 404, '%s %s has no stored readings'],
  RouteNotFound: ['NOT_FOUND', 404, 'route %s %s does not exist'],
  QueryTimeout: [
    'QUERY_TIMEOUT',
    503,
    'the query took longer than the statement timeout; narrow the window or retry',
  ],
  ReplicaConflict: [
    'REPLICA_CONFLICT',
    503,
    'the read replica cancelled the query to replay replication; retry',
  ],
  FreshnessUnknown: [
    'FRESHNESS_UNKNOWN',
    503,
    'the read replica cannot tell how fresh its data is yet (no writer heartbeat, nothing replayed); retry later',
  ],
  DatabaseUnavailable: ['DATABASE_UNAVAILABLE', 503, 'the read replica is not reachable; retry later'],
})
