import type { FastifyError } from 'fastify'
import fp from 'fastify-plugin'
import { STATUS_CODES } from 'node:http'
import { BadRequest, DatabaseUnavailable, QueryTimeout, ReplicaConflict, RouteNotFound } from '../errors.js'

interface Issue {
  field: string
  reason: string
}

type AnyError = Partial<FastifyError> & { message: string; issues?: Issue[] }

/** Ajv's errors for params/query, as `{ field, reason }` naming the parameter. */
function validationIssues(err: AnyError): Issue[] {
  return (err.validation ?? []).map((v) => {
    const missing = (v.params as { missingProperty?: string; additionalProperty?: string } | undefined) ?? {}
    const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.')
    if (missing.additionalProperty)
      return { field: missing.additionalProperty, reason: 'is not a known parameter' }
    if (missing.missingProperty) return { field: missing.missingProperty, reason: 'is required' }
    return { field: path || (err.validationContext ?? 'request'), reason: v.message ?? 'is invalid' }
  })
}

/**
 * A query the replica cancelled to replay WAL it conflicts with (40001, or 40P01 for a buffer-pin or
 * lock deadlock with the startup process): the same query succeeds when sent again.
 */
const RECOVERY_CONFLICT = new Set(['40001', '40P01'])

/**
 * The connection is gone or cannot be had: the server shut it down or is not accepting connections
 * (57P01-57P04, 53300, class 08), the socket failed, or pg gave up (its messages have no code).
 */
function isConnectionLoss(err: AnyError): boolean {
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

export interface ErrorReply {
  statusCode: number
  body: Record<string, unknown>
  /** Seconds for a Retry-After header: set on every 503 (the request may succeed when sent again). */
  retryAfterS?: number
}

const RETRY_AFTER_S: Record<string, number> = {
  ANALYTICS_REPLICA_CONFLICT: 1,
  ANALYTICS_QUERY_TIMEOUT: 2,
  ANALYTICS_DATABASE_UNAVAILABLE: 2,
}

/** Maps an error to a status and body. User input never yields a 5xx; 5xx bodies carry no internals. */
export function errorReply(err: AnyError): ErrorReply {
  let e: AnyError = err
  if (err.code === 'FST_ERR_VALIDATION') {
    const issues = validationIssues(err)
    e = Object.assign(new BadRequest(issues.map((i) => `${i.field}: ${i.reason}`).join('; ')), { issues })
  } else if (err.code === '57014') {
    e = new QueryTimeout()
  } else if (err.code !== undefined && RECOVERY_CONFLICT.has(err.code)) {
    e = new ReplicaConflict()
  } else if (isConnectionLoss(err)) {
    e = new DatabaseUnavailable()
  } else if (
    err.statusCode !== undefined &&
    err.statusCode >= 400 &&
    err.statusCode < 500 &&
    !err.code?.startsWith('ANALYTICS_')
  ) {
    e = Object.assign(new BadRequest(err.message), { statusCode: err.statusCode })
  }
  const statusCode = e.statusCode !== undefined && e.statusCode >= 400 ? e.statusCode : 500
  const error = STATUS_CODES[statusCode] ?? 'Error'
  if (statusCode >= 500 && !e.code?.startsWith('ANALYTICS_')) {
    return { statusCode, body: { statusCode, code: 'INTERNAL', error, message: 'Internal Server Error' } }
  }
  const body: Record<string, unknown> = { statusCode, code: e.code, error, message: e.message }
  if (e.issues !== undefined) body.details = e.issues
  const retryAfterS = statusCode === 503 ? (RETRY_AFTER_S[e.code ?? ''] ?? 2) : undefined
  return retryAfterS === undefined ? { statusCode, body } : { statusCode, body, retryAfterS }
}

export default fp(
  async function errorHandler(app) {
    app.setErrorHandler((err: AnyError, req, reply) => {
      const { statusCode, body, retryAfterS } = errorReply(err)
      if (statusCode >= 500) req.log.error({ err }, 'request failed')
      if (retryAfterS !== undefined) void reply.header('retry-after', String(retryAfterS))
      return reply.code(statusCode).send(body)
    })
    app.setNotFoundHandler((req, reply) => {
      const { statusCode, body } = errorReply(new RouteNotFound(req.method, req.url.split('?')[0]))
      return reply.code(statusCode).send(body)
    })
  },
  { name: 'error-handler', fastify: '5.x' },
)
