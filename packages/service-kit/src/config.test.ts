import { Type } from '@sinclair/typebox'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadEnvConfig } from './config.js'

const Schema = Type.Object({
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  NAME: Type.String({ default: 'svc', minLength: 1 }),
  ON: Type.Boolean({ default: false }),
})

describe('loadEnvConfig', () => {
  it('applies defaults and converts strings', () => {
    expect(loadEnvConfig(Schema, { PORT: ' 8080 ', ON: 'true', OTHER: 'x' })).toEqual({
      PORT: 8080,
      NAME: 'svc',
      ON: true,
    })
  })

  it('names every bad variable and the value it got', () => {
    try {
      loadEnvConfig(Schema, { PORT: 'eighty', NAME: '' })
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      const problems = (err as ConfigError).problems.join('\n')
      expect(problems).toContain('PORT')
      expect(problems).toContain('"eighty"')
      expect(problems).toContain('NAME')
    }
  })

  it('runs cross-field checks only on a well-typed config', () => {
    expect(() => loadEnvConfig(Schema, {}, (c) => (c.ON ? [] : ['ON: must be true']))).toThrow(
      'ON: must be true',
    )
  })
})

describe('loadEnvConfig never echoes a secret', () => {
  const WithSecrets = Type.Object({
    DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://' }),
    API_KEYS: Type.String({ minLength: 40 }),
    HMAC: Type.String({ minLength: 40, secret: true }),
    RETRIES: Type.Integer({ default: 1 }),
  })

  const problemsOf = (env: Record<string, string>) => {
    try {
      loadEnvConfig(WithSecrets, {
        DATABASE_URL: 'postgres://h/db',
        API_KEYS: 'k'.repeat(40),
        HMAC: 'h'.repeat(40),
        ...env,
      })
    } catch (err) {
      return (err as ConfigError).problems.join('\n') + (err as Error).message
    }
    return expect.unreachable()
  }

  it('hides the value of a variable marked secret or named like one', () => {
    const text = problemsOf({ API_KEYS: 'short-key-s3cr3t', HMAC: 'short-hmac-s3cr3t' })
    expect(text).toContain('API_KEYS')
    expect(text).toContain('HMAC')
    expect(text).not.toContain('s3cr3t')
    expect(text).toContain('value hidden')
  })

  it('masks the password of a URL it echoes', () => {
    const text = problemsOf({ DATABASE_URL: 'mysql://writer:pa55w0rd@db:5432/energy' })
    expect(text).toContain('DATABASE_URL')
    expect(text).not.toContain('pa55w0rd')
    expect(text).toContain('mysql://writer:***@db:5432/energy')
  })

  it('still echoes plain values', () => {
    expect(problemsOf({ RETRIES: 'many' })).toContain('"many"')
  })
})

describe('loadEnvConfig echoes what was given', () => {
  it('quotes the raw text of a value that converted to the wrong range', () => {
    expect(() => loadEnvConfig(Schema, { PORT: '70000' })).toThrow('(got "70000")')
  })
})
