import { describe, expect, it } from 'vitest'
import { poolOptions, type PgOptions } from './pg.js'

const opts: PgOptions = {
  connectionString: 'postgres://u@h:1/d',
  max: 10,
  statementTimeoutMs: 5_000,
  connectTimeoutMs: 3_000,
  idleTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 10_000,
  keepAliveMs: 10_000,
  probeTimeoutMs: 1_000,
}

describe('poolOptions', () => {
  it('bounds every wait: connect, statement, idle, idle in transaction, an unanswered query', () => {
    expect(
      poolOptions(opts, { max: 10, statementTimeoutMs: 5_000, connectTimeoutMs: 3_000, name: 'a' }),
    ).toMatchObject({
      max: 10,
      connectionTimeoutMillis: 3_000,
      idleTimeoutMillis: 30_000,
      statement_timeout: 5_000,
      idle_in_transaction_session_timeout: 10_000,
      query_timeout: 6_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: 'a',
    })
  })

  it('turns TCP keepalive off with 0', () => {
    const o = poolOptions(
      { ...opts, keepAliveMs: 0 },
      { max: 1, statementTimeoutMs: 1_000, connectTimeoutMs: 1_000, name: 'p' },
    )
    expect(o.keepAlive).toBe(false)
    expect(o).not.toHaveProperty('keepAliveInitialDelayMillis')
  })
})
