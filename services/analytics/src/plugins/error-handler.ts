import {
  errorReply as replyFor,
  type ClientError,
  type ErrorPolicy,
  type ErrorReply,
} from '@energy-ingest/service-kit'
import { CODE_PREFIX, DatabaseUnavailable, QueryTimeout, ReplicaConflict } from '../errors.js'

/**
 * A query the replica cancelled to replay WAL it conflicts with (40001, or 40P01 for a buffer-pin or
 * lock deadlock with the startup process): the same query succeeds when sent again.
 */
const RECOVERY_CONFLICT = new Set(['40001', '40P01'])

/**
 * The connection is gone or cannot be had: the server shut it down or is not accepting connections
 * (57P01-57P04, 53300, class 08), the socket failed, or pg gave up (its messages have no code).
 */
function isConnectionLoss(err: ClientError): boolean {
  const code = err.code ?? ''
  return (
    /^57P0[1-4]$/.test(code) ||
    code === '53300' ||
    code.startsWith('08') ||
    /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|AI_AGAIN)$/.test(code) ||
    /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error)/i.test(
      err.message,
    )
  )
}

/** PostgreSQL's errors, re-coded: user input never yields a 5xx, a transient one gets a 503. */
function normalise(err: ClientError): ClientError {
  if (err.code === '57014') return new QueryTimeout()
  if (err.code !== undefined && RECOVERY_CONFLICT.has(err.code)) return new ReplicaConflict()
  if (isConnectionLoss(err)) return new DatabaseUnavailable()
  return err
}

const RETRY_AFTER_S: Record<string, number> = {
  ANALYTICS_REPLICA_CONFLICT: 1,
  ANALYTICS_QUERY_TIMEOUT: 2,
  ANALYTICS_DATABASE_UNAVAILABLE: 2,
}

/** How the analytics service maps errors (a 503's Retry-After by code, 2 s otherwise). */
export const errorPolicy: ErrorPolicy = {
  prefix: CODE_PREFIX,
  badRequestCode: 'ANALYTICS_BAD_REQUEST',
  normalise,
  retryAfterS: (code) => RETRY_AFTER_S[code] ?? 2,
}

/** Maps an error to a status and body. User input never yields a 5xx; 5xx bodies carry no internals. */
export function errorReply(err: ClientError): ErrorReply {
  return replyFor(err, errorPolicy)
}
