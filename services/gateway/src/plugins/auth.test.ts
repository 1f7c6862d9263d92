import Fastify from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { deviceToken } from '../auth/tokens.js'
import auth from './auth.js'
import tokenRateLimit from './rate-limit.js'

// Registered on a bare instance: the plugins' own behaviour, no Kafka, no routes of the gateway.
async function bare(limits = { deviceMax: 2, fleetMax: 0, windowMs: 60_000 }) {
  const app = Fastify({ logger: false })
  await app.register(auth, { secret: 'plugin-test-secret', fleetTokens: ['fleet-1'] })
  await app.register(tokenRateLimit, limits)
  app.get('/who', async (req) => req.principal?.kind)
  app.setErrorHandler((err: { statusCode?: number; code?: string }, _req, reply) =>
    reply.code(err.statusCode ?? 500).send({ code: err.code }),
  )
  return app
}

describe('auth + token-rate-limit plugins', () => {
  let app: Awaited<ReturnType<typeof bare>>
  afterEach(async () => {
    await app.close()
  })

  it('sets the principal, or answers 401', async () => {
    app = await bare()
    const get = (authorization?: string) =>
      app.inject({ url: '/who', headers: authorization ? { authorization } : {} })
    expect((await get('Bearer fleet-1')).body).toBe('fleet')
    expect((await get(`Bearer ${deviceToken('plugin-test-secret', 'meter', 'M1')}`)).body).toBe('device')
    expect((await get()).json()).toEqual({ code: 'INGEST_UNAUTHORIZED' })
    expect((await get('Bearer nope')).statusCode).toBe(401)
  })

  it('limits each device token on its own and leaves fleet tokens alone when their limit is 0', async () => {
    app = await bare()
    const get = (authorization: string) => app.inject({ url: '/who', headers: { authorization } })
    const a = `Bearer ${deviceToken('plugin-test-secret', 'meter', 'A')}`
    const b = `Bearer ${deviceToken('plugin-test-secret', 'meter', 'B')}`
    expect([(await get(a)).statusCode, (await get(a)).statusCode, (await get(a)).statusCode]).toEqual([
      200, 200, 429,
    ])
    expect((await get(b)).statusCode).toBe(200)
    for (let i = 0; i < 5; i++) expect((await get('Bearer fleet-1')).statusCode).toBe(200)
  })
})
