import { Type } from '@sinclair/typebox'
import { describe, expect, it } from 'vitest'
import { serviceEnv } from './service-env.js'

describe('serviceEnv', () => {
  const schema = Type.Object({ LOG_LEVEL: Type.String(), PORT: Type.Integer() })

  it('passes the runtime variables and the service settings the runner sets, nothing else', () => {
    const env = serviceEnv(
      { PATH: '/bin', HOME: '/root', LOG_LEVEL: 'debug', AWS_SECRET_ACCESS_KEY: 'x', GITHUB_TOKEN: 'y' },
      schema,
      { PORT: '3000' },
    )
    expect(env).toEqual({ PATH: '/bin', HOME: '/root', LOG_LEVEL: 'debug', PORT: '3000' })
  })

  it("lets the stack's own values win over the runner's", () => {
    expect(serviceEnv({ PORT: '1' }, schema, { PORT: '2' }).PORT).toBe('2')
  })
})
