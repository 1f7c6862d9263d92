import { describe, expect, it } from 'vitest'
import { InvalidReading, KafkaUnavailable, withIssues } from '../errors.js'
import { errorReply } from './error-handler.js'

describe('errorReply', () => {
  it('lists validation issues as details', () => {
    const issues = [{ field: 'voltage', reason: 'must be <= 1000' }]
    const r = errorReply(withIssues(new InvalidReading('voltage: must be <= 1000'), issues))
    expect(r).toEqual({
      statusCode: 400,
      body: {
        statusCode: 400,
        code: 'INGEST_INVALID_READING',
        error: 'Bad Request',
        message: 'invalid reading: voltage: must be <= 1000',
        details: issues,
      },
    })
  })

  it.each([
    [
      { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415, message: 'x' },
      415,
      'INGEST_UNSUPPORTED_MEDIA_TYPE',
    ],
    [{ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413, message: 'x' }, 413, 'INGEST_BODY_TOO_LARGE'],
    [{ code: 'FST_ERR_CTP_EMPTY_JSON_BODY', statusCode: 400, message: 'x' }, 400, 'INGEST_EMPTY_BODY'],
    [{ code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400, message: 'x' }, 400, 'INGEST_MALFORMED_JSON'],
    [
      { statusCode: 400, message: 'Object contains forbidden prototype property' },
      400,
      'INGEST_MALFORMED_JSON',
    ],
  ])('re-codes Fastify error %j', (err, status, code) => {
    const r = errorReply(err)
    expect(r.statusCode).toBe(status)
    expect(r.body.code).toBe(code)
  })

  it('keeps internals out of 5xx bodies', () => {
    const r = errorReply(new Error('connect ECONNREFUSED 10.0.0.7:9092'))
    expect(r.body).toEqual({
      statusCode: 500,
      code: 'INTERNAL',
      error: 'Internal Server Error',
      message: 'Internal Server Error',
    })
    expect(errorReply(new KafkaUnavailable()).body.code).toBe('INGEST_KAFKA_UNAVAILABLE')
  })
})
