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
