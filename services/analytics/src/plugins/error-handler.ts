import type { FastifyError } from 'fastify'
import fp from 'fastify-plugin'
import { STATUS_CODES } from 'node:http'
import { BadRequest, DatabaseUnavailable, QueryTimeout, RouteNotFound } from '../errors.js'

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

/** Maps an error to a status and body. User input never yields a 5xx; 5xx bodies carry no internals. */
export function errorReply(err: AnyError): { statusCode: number; body: Record<string, unknown> } {
  let e: AnyError = err
  if (err.code === 'FST_ERR_VALIDATION') {
    const issues = validationIssues(err)
    e = Object.assign(new BadRequest(issues.map((i) => `${i.field}: ${i.reason}`).join('; ')), { issues })
  } else if (err.code === '57014') {
    e = new QueryTimeout()
  } else if (
    err.code === 'ECONNREFUSED' ||
    err.code === '57P03' ||
    /timeout exceeded when trying to connect/i.test(err.message)
  ) {
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
  return { statusCode, body }
}

export default fp(
  async function errorHandler(app) {
    app.setErrorHandler((err: AnyError, req, reply) => {
      const { statusCode, body } = errorReply(err)
      if (statusCode >= 500) req.log.error({ err }, 'request failed')
      if (statusCode === 503) void reply.header('retry-after', '2')
      return reply.code(statusCode).send(body)
    })
    app.setNotFoundHandler((req, reply) => {
      const { statusCode, body } = errorReply(new RouteNotFound(req.method, req.url.split('?')[0]))
      return reply.code(statusCode).send(body)
    })
  },
  { name: 'error-handler', fastify: '5.x' },
)
