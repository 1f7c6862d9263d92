import { describe, expect, it } from 'vitest'
import { isDataError, isRetriable, pgErrorFields } from './errors.js'

describe('error classification', () => {
  it.each([
    ['23514', true],
    ['22003', true],
    ['23505', true],
    ['40P01', false],
    ['40001', false],
    ['08006', false],
    ['57P01', false],
    ['42P01', false],
  ])('SQLSTATE %s is a data error: %s', (code, data) => {
    const err = Object.assign(new Error('x'), { code })
    expect(isDataError(err)).toBe(data)
    expect(isRetriable(err)).toBe(!data)
  })

  it('treats errors without a SQLSTATE (connection refused, timeouts) as retriable', () => {
    expect(isRetriable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true)
    expect(isRetriable(new Error('Connection terminated unexpectedly'))).toBe(true)
  })

  it('keeps code and constraint for the dead letter', () => {
    const err = Object.assign(new Error('violates check'), { code: '23514', constraint: 'c1' })
    expect(pgErrorFields(err)).toEqual({ code: '23514', constraint: 'c1', message: 'violates check' })
  })
})
