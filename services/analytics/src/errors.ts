import createError from '@fastify/error'

// Every error a client can see: a stable code, a status and a message template.
export const BadRequest = createError('ANALYTICS_BAD_REQUEST', '%s', 400)
export const BadWindow = createError('ANALYTICS_BAD_WINDOW', '%s', 400)
export const Unauthorized = createError('ANALYTICS_UNAUTHORIZED', 'authorization: %s', 401)
export const DeviceNotFound = createError('ANALYTICS_DEVICE_NOT_FOUND', '%s %s has no stored readings', 404)
export const RouteNotFound = createError('ANALYTICS_NOT_FOUND', 'route %s %s does not exist', 404)
export const QueryTimeout = createError(
  'ANALYTICS_QUERY_TIMEOUT',
  'the query took longer than the statement timeout; narrow the window or retry',
  503,
)
export const ReplicaConflict = createError(
  'ANALYTICS_REPLICA_CONFLICT',
  'the read replica cancelled the query to replay replication; retry',
  503,
)
export const FreshnessUnknown = createError(
  'ANALYTICS_FRESHNESS_UNKNOWN',
  'the read replica cannot tell how fresh its data is yet (no writer heartbeat, nothing replayed); retry later',
  503,
)
export const DatabaseUnavailable = createError(
  'ANALYTICS_DATABASE_UNAVAILABLE',
  'the read replica is not reachable; retry later',
  503,
)
