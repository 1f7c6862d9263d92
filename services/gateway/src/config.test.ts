import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './config.js'

const secret = { INGEST_TOKEN_SECRET: 'a-secret-of-sixteen+' }

describe('loadConfig', () => {
  it('fills every default', () => {
    const c = loadConfig({ ...secret })
    expect(c.PORT).toBe(3000)
    expect(c.KAFKA_TOPIC_PREFIX).toBe('')
    expect(c.INGEST_BATCH_MAX_ITEMS).toBe(5000)
    expect(c.INGEST_MAX_FUTURE_SKEW_MS).toBe(300_000)
    expect(c.KAFKA_PACKING).toBe('partition')
    expect([c.INGEST_BATCH_ITEM_MAX_BYTES, c.INGEST_BATCH_MAX_UNREADABLE]).toEqual([1024, 10])
    expect(c.HISTORY_RETENTION_MONTHS).toBe(13)
    expect(c.INGEST_RETENTION_MARGIN_MS).toBe(3_600_000)
    expect([c.HTTP_HEADERS_TIMEOUT_MS, c.HTTP_REQUEST_TIMEOUT_MS]).toEqual([10_000, 30_000])
    expect([c.HTTP_KEEP_ALIVE_TIMEOUT_MS, c.HTTP_CONNECTION_TIMEOUT_MS]).toEqual([72_000, 90_000])
  })

  it('converts numbers and booleans and ignores unrelated variables', () => {
    const c = loadConfig({ ...secret, PORT: '8081', METRICS_PROCESS: 'false', PATH: '/bin' })
    expect(c.PORT).toBe(8081)
    expect(c.METRICS_PROCESS).toBe(false)
    expect(c).not.toHaveProperty('PATH')
  })

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ KAFKA_LINGER_MS: '-1' }, 'KAFKA_LINGER_MS'],
    [{ KAFKA_PACKING: 'zip' }, 'KAFKA_PACKING'],
    [{ KAFKA_BROKERS: 'a:1,,b:2' }, 'KAFKA_BROKERS'],
    [{ INGEST_DEV_MODE: 'maybe' }, 'INGEST_DEV_MODE'],
    [{ INGEST_TOKEN_SECRET: 'short' }, 'INGEST_TOKEN_SECRET'],
    [{ HISTORY_RETENTION_MONTHS: '0' }, 'HISTORY_RETENTION_MONTHS'],
    [{ INGEST_RETENTION_MARGIN_MS: '1000' }, 'INGEST_RETENTION_MARGIN_MS'],
    [{ HTTP_HEADERS_TIMEOUT_MS: '40000' }, 'HTTP_HEADERS_TIMEOUT_MS'],
    [{ HTTP_CONNECTION_TIMEOUT_MS: '2000' }, 'HTTP_CONNECTION_TIMEOUT_MS'],
    [{ HTTP_CONNECTION_TIMEOUT_MS: '60000' }, 'HTTP_CONNECTION_TIMEOUT_MS'],
    [{ RATE_LIMIT_READINGS_MAX: '4999' }, 'RATE_LIMIT_READINGS_MAX'],
    [{ RATE_LIMIT_FLEET_READINGS_MAX: '100' }, 'RATE_LIMIT_FLEET_READINGS_MAX'],
  ])('names the bad variable in %j', (env, name) => {
    expect(() => loadConfig({ ...secret, ...env })).toThrow(ConfigError)
    expect(() => loadConfig({ ...secret, ...env })).toThrow(name)
  })

  it('refuses to start without a secret unless it is a dev run', () => {
    expect(() => loadConfig({})).toThrow(/INGEST_TOKEN_SECRET: required/)
    expect(loadConfig({ INGEST_DEV_MODE: 'true' }).INGEST_DEV_MODE).toBe(true)
  })
})

describe('loadConfig, several problems', () => {
  it('lists every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT[\s\S]*INGEST_TOKEN_SECRET/)
  })
})

describe('loadConfig, secrets', () => {
  it('never repeats a secret in its message', () => {
    const env = {
      INGEST_TOKEN_SECRET: 'SECRET-short',
      INGEST_FLEET_TOKENS: 'FLEET-TOKEN-A,,FLEET-TOKEN-B',
      PORT: 'abc',
      RATE_LIMIT_MAX: '-1',
    }
    let message = ''
    try {
      loadConfig(env)
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toContain('INGEST_TOKEN_SECRET')
    expect(message).not.toMatch(/SECRET-short|FLEET-TOKEN/)
  })
})
