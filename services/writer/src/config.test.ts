import { describe, expect, it } from 'vitest'
import { ConfigError, brokerList, loadConfig } from './config.js'

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://x@y/z' })
    expect(config.WRITER_PORT).toBe(3002)
    expect(config.KAFKA_GROUP_ID).toBe('energy-writer')
    expect(config.KAFKA_TOPIC_PREFIX).toBe('')
    expect(config.HISTORY_RETENTION_MONTHS).toBe(13)
    expect(config.KAFKA_FROM_BEGINNING).toBe(true)
  })

  it('converts numbers and booleans from strings', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://x@y/z',
      WRITER_PORT: '0',
      MIGRATE_ON_START: 'false',
      KAFKA_BROKERS: 'a:1,b:2',
    })
    expect(config.WRITER_PORT).toBe(0)
    expect(config.MIGRATE_ON_START).toBe(false)
    expect(brokerList(config)).toEqual(['a:1', 'b:2'])
  })

  it('names every bad variable at once', () => {
    try {
      loadConfig({ WRITER_PORT: 'abc', HISTORY_RETENTION_MONTHS: '0' })
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      const text = (err as ConfigError).problems.join('\n')
      expect(text).toContain('DATABASE_URL')
      expect(text).toContain('WRITER_PORT')
      expect(text).toContain('HISTORY_RETENTION_MONTHS')
    }
  })

  it('checks relations between settings', () => {
    expect(() =>
      loadConfig({ DATABASE_URL: 'postgres://x@y/z', RETRY_INITIAL_MS: '5000', RETRY_MAX_MS: '100' }),
    ).toThrow(/RETRY_INITIAL_MS/)
  })
})

describe('ENERGY_MAX_POWER_KW', () => {
  it('defaults to 400 kW, takes a decimal, refuses zero and text', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://x@y/z' }).ENERGY_MAX_POWER_KW).toBe(400)
    expect(
      loadConfig({ DATABASE_URL: 'postgres://x@y/z', ENERGY_MAX_POWER_KW: '50.5' }).ENERGY_MAX_POWER_KW,
    ).toBe(50.5)
    for (const bad of ['0', '-1', 'fast'])
      expect(() => loadConfig({ DATABASE_URL: 'postgres://x@y/z', ENERGY_MAX_POWER_KW: bad })).toThrow(
        /ENERGY_MAX_POWER_KW/,
      )
  })
})
