import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { STATUS_CODES } from 'node:http'
import { validationIssues, type ClientError, type ErrorIssue } from './errors.js'

/** The error body every service answers with (the shared `ErrorBody` schema of contracts). */
export interface ErrorBodyOut {
  statusCode: number
  code: string
  error: string
  message: string
  details?: ErrorIssue[]
}

export interface ErrorReply {
  statusCode: number
  body: ErrorBodyOut
  /** Seconds for a Retry-After header: every 503 has one, and so have errors that carry their own. */
  retryAfterS?: number
}

/** What the mapping may know of the request (a pure function: unit tests pass it by hand). */
export interface RequestFacts {
  bodyLimit?: number
  contentType?: string
}

/** How one service maps errors: its own codes, and the rules that re-code foreign errors into them. */
export interface ErrorPolicy {
  /** The service's code prefix with its underscore (`INGEST_`): only such codes reach a client as they are. */
  prefix: string
  /** Code of a 4xx that is not the service's own (a Fastify error, a failed schema validation). */
  badRequestCode: string
  /** Service rules, run first: re-code framework or driver errors into the service's own errors. */
  normalise?: (err: ClientError, req: RequestFacts) => ClientError
  /** Retry-After of a 503 with this code (default 2 s). */
  retryAfterS?: (code: string) => number
}

const DEFAULT_RETRY_AFTER_S = 2

/** A failed schema validation, as a 400 naming every field (`below: …; window: …`). */
function fromValidation(err: ClientError, code: string): ClientError {
  const issues = validationIssues(err)
  const message = issues.map((i) => `${i.field}: ${i.reason}`).join('; ')
  return { code, statusCode: 400, message, issues }
}

/** Maps any error to the status and JSON body a client gets. 5xx bodies never carry internals. */
export function errorReply(raw: ClientError, policy: ErrorPolicy, req: RequestFacts = {}): ErrorReply {
  const err =
    raw.code === 'FST_ERR_VALIDATION'
      ? fromValidation(raw, policy.badRequestCode)
      : (policy.normalise?.(raw, req) ?? raw)
  const own = err.code?.startsWith(policy.prefix) === true
  const statusCode = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500
  const error = STATUS_CODES[statusCode] ?? 'Error'
  if (statusCode >= 500 && !own) {
    return { statusCode, body: { statusCode, code: 'INTERNAL', error, message: 'Internal Server Error' } }
  }
  const code = own ? err.code! : policy.badRequestCode
  const body: ErrorBodyOut = { statusCode, code, error, message: err.message }
  if (err.issues !== undefined) body.details = err.issues
  const retryAfterS =
    err.retryAfterS ??
    (statusCode === 503 ? (policy.retryAfterS?.(code) ?? DEFAULT_RETRY_AFTER_S) : undefined)
  return retryAfterS === undefined ? { statusCode, body } : { statusCode, body, retryAfterS }
}

export interface ErrorHandlerOptions extends ErrorPolicy {
  /** The 404 of an unknown route, as one of the service's own errors. */
  notFound: (method: string, path: string) => ClientError
}

/**
 * The error and not-found handlers of a service: one body shape (`ErrorBody`), the service's own
 * codes, a Retry-After on every 503. A 503 is an expected state and logs a warning; other 5xx log
 * the error with its stack; refused requests log their code and first field at info. Each error
 * answer counts in `<service>_http_requests_failed_total` (the `prometheus` plugin comes first).
 */
const errorHandler: FastifyPluginAsync<ErrorHandlerOptions> = async (app, opts) => {
  app.setErrorHandler((err: ClientError, req, reply) => {
    const { statusCode, body, retryAfterS } = errorReply(err, opts, {
      bodyLimit: req.routeOptions.bodyLimit,
      contentType: req.headers['content-type'],
    })
    if (statusCode === 503) req.log.warn({ code: body.code }, 'request refused: unavailable')
    else if (statusCode >= 500) req.log.error({ err }, 'request failed')
    else req.log.info({ code: body.code, field: body.details?.[0]?.field }, 'request refused')
    app.prometheus.httpRequestsFailed.inc({ route: req.routeOptions.url ?? 'none', code: body.code })
    if (retryAfterS !== undefined) void reply.header('retry-after', String(retryAfterS))
    return reply.code(statusCode).send(body)
  })
  app.setNotFoundHandler((req, reply) => {
    const { statusCode, body } = errorReply(opts.notFound(req.method, req.url.split('?')[0] ?? ''), opts)
    app.prometheus.httpRequestsFailed.inc({ route: 'none', code: body.code })
    return reply.code(statusCode).send(body)
  })
}

export default fp(errorHandler, { name: 'error-handler', fastify: '5.x', dependencies: ['prometheus'] })
