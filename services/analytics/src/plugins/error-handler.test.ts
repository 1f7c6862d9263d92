import { describe, expect, it } from 'vitest'
import { DeviceNotFound } from '../errors.js'
import { errorReply } from './error-handler.js'

describe('errorReply', () => {
  it('turns validation errors into a 400 naming each parameter', () => {
    const err = Object.assign(new Error('querystring/below Expected number to be greater than 0'), {
      code: 'FST_ERR_VALIDATION',
      statusCode: 400,
      validationContext: 'querystring' as const,
      validation: [
        {
          instancePath: '/below',
          message: 'Expected number to be greater than 0',
          params: {},
          keyword: '',
          schemaPath: '',
        },
        { instancePath: '/window', message: 'Unexpected property', params: {}, keyword: '', schemaPath: '' },
      ],
    })
    expect(errorReply(err)).toEqual({
      statusCode: 400,
      body: {
        statusCode: 400,
        code: 'ANALYTICS_BAD_REQUEST',
        error: 'Bad Request',
        message: 'below: expected number to be greater than 0; window: is not a known parameter',
        details: [
          { field: 'below', reason: 'expected number to be greater than 0' },
          { field: 'window', reason: 'is not a known parameter' },
        ],
      },
    })
  })

  it('keeps its own codes and maps a statement timeout to 503', () => {
    expect(errorReply(new DeviceNotFound('vehicle', 'V9')).body).toMatchObject({
      statusCode: 404,
      code: 'ANALYTICS_DEVICE_NOT_FOUND',
      message: 'vehicle V9 has no stored readings',
    })
    expect(
      errorReply(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }))
        .statusCode,
    ).toBe(503)
  })

  const pgError = (code: string, message: string) => Object.assign(new Error(message), { code })

  it.each([
    ['40001', 'canceling statement due to conflict with recovery'],
    ['40P01', 'canceling statement due to conflict with recovery'],
  ])('maps a recovery conflict (%s) to a 503 the client may retry', (code, message) => {
    expect(errorReply(pgError(code, message))).toEqual({
      statusCode: 503,
      retryAfterS: 1,
      body: {
        statusCode: 503,
        code: 'ANALYTICS_REPLICA_CONFLICT',
        error: 'Service Unavailable',
        message: 'the read replica cancelled the query to replay replication; retry',
      },
    })
  })

  it.each([
    pgError('57P01', 'terminating connection due to administrator command'),
    pgError('57P02', 'terminating connection because of crash of another server process'),
    pgError('57P03', 'the database system is starting up'),
    pgError('57P04', 'terminating connection due to conflict with recovery'),
    pgError('08006', 'connection failure'),
    pgError('08003', 'connection does not exist'),
    pgError('08001', 'could not connect'),
    pgError('53300', 'sorry, too many clients already'),
    pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
    pgError('ECONNRESET', 'read ECONNRESET'),
    pgError('EPIPE', 'write EPIPE'),
    pgError('ETIMEDOUT', 'connect ETIMEDOUT'),
    new Error('Connection terminated unexpectedly'),
    new Error('Connection terminated due to connection timeout'),
    new Error('timeout exceeded when trying to connect'),
    new Error('Query read timeout'),
    new Error('Client has encountered a connection error and is not queryable'),
  ])('maps a lost or refused connection ($message) to a 503 with Retry-After', (err) => {
    const reply = errorReply(err)
    expect(reply.statusCode).toBe(503)
    expect(reply.retryAfterS).toBeGreaterThan(0)
    expect(reply.body.code).toBe('ANALYTICS_DATABASE_UNAVAILABLE')
  })

  it('maps a statement timeout to a 503 with Retry-After, and nothing else of class 40 or 57', () => {
    expect(errorReply(pgError('57014', 'canceling statement due to statement timeout'))).toMatchObject({
      statusCode: 503,
      retryAfterS: 2,
      body: { code: 'ANALYTICS_QUERY_TIMEOUT' },
    })
    expect(errorReply(pgError('40002', 'integrity constraint violation')).statusCode).toBe(500)
    expect(errorReply(pgError('42P01', 'relation does not exist')).statusCode).toBe(500)
  })

  it('never leaks internals of an unexpected error', () => {
    expect(errorReply(new Error('relation "secret_table" does not exist'))).toEqual({
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
