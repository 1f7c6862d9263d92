import { describe, expect, it } from 'vitest'
import { RowsRejectedError, StoreFailedError, WriterErrorCode, toWriterError } from './errors.js'

describe('writer errors', () => {
  it.each([
    ['23514', false],
    ['22003', false],
    ['23505', false],
    ['40P01', true],
    ['40001', true],
    ['08006', true],
    ['57P01', true],
    ['42P01', true],
  ])('SQLSTATE %s is retriable: %s', (code, retriable) => {
    const err = toWriterError(Object.assign(new Error('x'), { code }))
    expect(err.retriable).toBe(retriable)
    expect(err.code).toBe(retriable ? WriterErrorCode.STORE_FAILED : WriterErrorCode.REJECTED_BY_DATABASE)
    expect(err).toBeInstanceOf(retriable ? StoreFailedError : RowsRejectedError)
  })

  it('treats errors without a SQLSTATE (connection refused, timeouts) as retriable', () => {
    const refused = toWriterError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
    expect(refused.retriable).toBe(true)
    expect(toWriterError(new Error('Connection terminated unexpectedly')).retriable).toBe(true)
    expect(toWriterError('a string').retriable).toBe(true)
  })

  it('keeps SQLSTATE, constraint, message and cause for the dead letter', () => {
    const pg = Object.assign(new Error('violates check'), { code: '23514', constraint: 'c1' })
    const err = toWriterError(pg)
    expect(err).toBeInstanceOf(RowsRejectedError)
    expect(err).toMatchObject({ sqlState: '23514', constraint: 'c1', message: 'violates check', cause: pg })
  })

  it('returns an error of the family unchanged', () => {
    const err = new StoreFailedError('lost', new Error('lost'))
    expect(toWriterError(err)).toBe(err)
  })
})
