import { describe, expect, it } from 'vitest'
import { DeviceNotFound } from '../errors.js'
import { errorReply } from './error-handler.js'

describe('errorReply', () => {
  it('turns Ajv validation errors into a 400 naming each parameter', () => {
    const err = Object.assign(new Error('querystring/below must be > 0'), {
      code: 'FST_ERR_VALIDATION',
      statusCode: 400,
      validationContext: 'querystring' as const,
      validation: [
        {
          instancePath: '/below',
          message: 'must be > 0',
          params: {},
          keyword: 'exclusiveMinimum',
          schemaPath: '',
        },
        {
          instancePath: '',
          message: 'must NOT have additional properties',
          params: { additionalProperty: 'window' },
          keyword: 'additionalProperties',
          schemaPath: '',
        },
      ],
    })
    expect(errorReply(err)).toEqual({
      statusCode: 400,
      body: {
        statusCode: 400,
        code: 'ANALYTICS_BAD_REQUEST',
        error: 'Bad Request',
        message: 'below: must be > 0; window: is not a known parameter',
        details: [
          { field: 'below', reason: 'must be > 0' },
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
