import type { ValidationIssue } from '@energy-ingest/contracts'
import type { FastifyError } from 'fastify'
import fp from 'fastify-plugin'
import { STATUS_CODES } from 'node:http'
import { BodyTooLarge, EmptyBody, MalformedJson, NotFound, UnsupportedMediaType } from '../errors.js'

export interface ErrorReply {
  statusCode: number
  body: {
    statusCode: number
    code: string
    error: string
    message: string
    details?: ValidationIssue[]
  }
}

type MaybeAppError = Partial<FastifyError> & {
  issues?: ValidationIssue[]
  /** Seconds until a refused request may succeed (rate limits); a 503 without it gets the default. */
  retryAfterS?: number
  message: string
}

/** Fastify's own errors, re-coded so a client sees one vocabulary; the message names the field. */
function normalise(err: MaybeAppError, req: { bodyLimit?: number; contentType?: string }): MaybeAppError {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaType(JSON.stringify(req.contentType ?? ''), 'application/json')
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new BodyTooLarge(req.bodyLimit ?? '')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new EmptyBody()
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new MalformedJson(err.message)
  }
  // secure-json-parse throws a SyntaxError (bad JSON) or an Error (__proto__ key) tagged 400.
  if (err.code === undefined && err.statusCode === 400) return new MalformedJson(err.message)
  return err
}

/** Maps any error to the status and JSON body a client gets. 5xx bodies never carry internals. */
export function errorReply(
  raw: MaybeAppError,
  req: { bodyLimit?: number; contentType?: string } = {},
): ErrorReply {
  const err = normalise(raw, req)
  const statusCode = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500
  const error = STATUS_CODES[statusCode] ?? 'Error'
  if (statusCode >= 500 && !err.code?.startsWith('INGEST_')) {
    return { statusCode, body: { statusCode, code: 'INTERNAL', error, message: 'Internal Server Error' } }
  }
  const code = err.code?.startsWith('INGEST_') ? err.code : 'INGEST_BAD_REQUEST'
  const body: ErrorReply['body'] = { statusCode, code, error, message: err.message }
  if (err.issues !== undefined) body.details = err.issues
  return { statusCode, body }
}

export default fp(
  async function errorHandler(app, opts: { retryAfterS: number }) {
    app.setErrorHandler((err: MaybeAppError, req, reply) => {
      const { statusCode, body } = errorReply(err, {
        bodyLimit: req.routeOptions.bodyLimit,
        contentType: req.headers['content-type'],
      })
      // A 503 is an expected state (broker away, back-pressure) already logged by the publisher.
      if (statusCode === 503) req.log.warn({ code: body.code }, 'request refused: unavailable')
      else if (statusCode >= 500) req.log.error({ err }, 'request failed')
      else req.log.info({ code: body.code, field: body.details?.[0]?.field }, 'request refused')
      app.metrics.failedRequests.inc({ route: req.routeOptions.url ?? 'none', code: body.code })
      if (typeof err.retryAfterS === 'number') void reply.header('retry-after', String(err.retryAfterS))
      else if (statusCode === 503) void reply.header('retry-after', String(opts.retryAfterS))
      return reply.code(statusCode).send(body)
    })
    app.setNotFoundHandler((req, reply) => {
      const { statusCode, body } = errorReply(new NotFound(req.method, req.url.split('?')[0]))
      return reply.code(statusCode).send(body)
    })
  },
  { name: 'error-handler', fastify: '5.x', dependencies: ['metrics'] },
)
