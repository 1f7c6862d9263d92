import { Type } from '@sinclair/typebox'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import metrics from './metrics.js'
import validation from './validation.js'
import errorHandler, { errorReply, type ErrorPolicy } from './error-handler.js'
import { defineErrors, withIssues } from './errors.js'

const E = defineErrors('SVC', {
  Invalid: ['INVALID', 400, 'invalid thing: %s'],
  NotFound: ['NOT_FOUND', 404, 'route %s %s does not exist'],
  Away: ['AWAY', 503, 'the database is away; retry later'],
})
const policy: ErrorPolicy = { prefix: 'SVC_', badRequestCode: 'SVC_BAD_REQUEST' }

describe('defineErrors', () => {
  it('prefixes each code with the service and keeps status and template', () => {
    const err = new E.Invalid('voltage')
    expect(err).toMatchObject({ code: 'SVC_INVALID', statusCode: 400, message: 'invalid thing: voltage' })
  })
})

describe('errorReply', () => {
  it('answers a service error as it is, with its issues as details', () => {
    const issues = [{ field: 'voltage', reason: 'must be <= 1000' }]
    expect(errorReply(withIssues(new E.Invalid('voltage'), issues), policy)).toEqual({
      statusCode: 400,
      body: {
        statusCode: 400,
        code: 'SVC_INVALID',
        error: 'Bad Request',
        message: 'invalid thing: voltage',
        details: issues,
      },
    })
  })

  it('re-codes a foreign 4xx as the service bad request, keeping its status', () => {
    expect(
      errorReply({ statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', message: 'x' }, policy).body,
    ).toMatchObject({
      statusCode: 415,
      code: 'SVC_BAD_REQUEST',
    })
  })

  it('runs the service rules first', () => {
    const normalise: ErrorPolicy['normalise'] = (err) => (err.code === '57P01' ? new E.Away() : err)
    const r = errorReply(
      { code: '57P01', message: 'terminating connection' },
      { ...policy, normalise, retryAfterS: () => 7 },
    )
    expect(r).toMatchObject({ statusCode: 503, retryAfterS: 7, body: { code: 'SVC_AWAY' } })
  })

  it('gives every 503 a Retry-After, and lets an error carry its own', () => {
    expect(errorReply(new E.Away(), policy).retryAfterS).toBe(2)
    expect(
      errorReply({ statusCode: 429, code: 'SVC_LIMITED', message: 'slow down', retryAfterS: 9 }, policy)
        .retryAfterS,
    ).toBe(9)
  })

  it('keeps internals out of 5xx bodies', () => {
    expect(errorReply(new Error('connect ECONNREFUSED 10.0.0.7:9092'), policy)).toEqual({
      statusCode: 500,
      body: {
        statusCode: 500,
        code: 'INTERNAL',
        error: 'Internal Server Error',
        message: 'Internal Server Error',
      },
    })
  })
})

describe('error-handler plugin', () => {
  it('answers a failed TypeBox validation with a 400 naming each parameter', async () => {
    const app = Fastify({ logger: false })
    await app.register(validation)
    await app.register(metrics, { service: 'svc', processMetrics: false })
    await app.register(errorHandler, { ...policy, notFound: (method, path) => new E.NotFound(method, path) })
    const querystring = Type.Object(
      { below: Type.Number({ exclusiveMinimum: 0 }), from: Type.String() },
      { additionalProperties: false },
    )
    app.get('/alerts', { schema: { querystring } }, async (req) => req.query)
    try {
      const res = await app.inject({ url: '/alerts?below=-1&window=7d' })
      expect(res.statusCode).toBe(400)
      const body = res.json<{ code: string; message: string; details: { field: string }[] }>()
      expect(body.code).toBe('SVC_BAD_REQUEST')
      expect(body.details.map((d) => d.field).sort()).toEqual(['below', 'from', 'window'])
      expect(body.message).toContain('window: is not a known parameter')
      expect(body.message).toContain('from: is required')
      // Query strings are converted: "0.5" is a number.
      expect((await app.inject({ url: '/alerts?below=0.5&from=x' })).json()).toEqual({
        below: 0.5,
        from: 'x',
      })
    } finally {
      await app.close()
    }
  })

  it('answers errors and unknown routes with the error body, and reports each refusal', async () => {
    const app = Fastify({ logger: false })
    await app.register(metrics, { service: 'svc', processMetrics: false })
    await app.register(errorHandler, { ...policy, notFound: (method, path) => new E.NotFound(method, path) })
    app.get('/away', async () => {
      throw new E.Away()
    })
    try {
      const away = await app.inject({ url: '/away' })
      expect(away.statusCode).toBe(503)
      expect(away.headers['retry-after']).toBe('2')
      expect(away.json()).toMatchObject({ code: 'SVC_AWAY' })
      const missing = await app.inject({ url: '/nope?x=1' })
      expect(missing.statusCode).toBe(404)
      expect(missing.json()).toMatchObject({
        code: 'SVC_NOT_FOUND',
        message: 'route GET /nope does not exist',
      })
      const text = await app.prometheus.registry.metrics()
      expect(text).toContain('svc_http_requests_failed_total{route="/away",code="SVC_AWAY"} 1')
      expect(text).toContain('svc_http_requests_failed_total{route="none",code="SVC_NOT_FOUND"} 1')
    } finally {
      await app.close()
    }
  })
})
