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
