import Fastify from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { deviceToken } from '../auth/tokens.js'
import auth from './auth.js'
import tokenRateLimit from './rate-limit.js'

// Registered on a bare instance: the plugins' own behaviour, no Kafka, no routes of the gateway.
const limits = {
  deviceRequests: 2,
  deviceReadings: 6000,
  fleetRequests: 0,
  fleetReadings: 0,
  windowMs: 60_000,
  now: () => Date.parse('2026-03-01T00:00:00Z'),
}

async function bare(overrides: Partial<typeof limits> = {}) {
  const app = Fastify({ logger: false })
  await app.register(auth, { secret: 'plugin-test-secret', fleetTokens: ['fleet-1'] })
  await app.register(tokenRateLimit, { ...limits, ...overrides })
  app.get('/who', async (req) => req.principal?.kind)
  app.post('/readings', async (req) => {
    app.rateLimit.chargeReadings(req.principal!, (req.body as unknown[]).length)
    return 'ok'
  })
  app.setErrorHandler(
    (err: { statusCode?: number; code?: string; message: string; retryAfterS?: number }, _req, reply) => {
      if (err.retryAfterS !== undefined) void reply.header('retry-after', String(err.retryAfterS))
      return reply.code(err.statusCode ?? 500).send({ code: err.code, message: err.message })
    },
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
    expect((await get()).json()).toMatchObject({ code: 'INGEST_UNAUTHORIZED' })
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

  it('counts every spelling of the scheme against the one token', async () => {
    app = await bare()
    const token = deviceToken('plugin-test-secret', 'meter', 'A')
    const get = (authorization: string) => app.inject({ url: '/who', headers: { authorization } })
    const codes = [
      (await get(`Bearer ${token}`)).statusCode,
      (await get(`bearer ${token}`)).statusCode,
      (await get(`BEARER  ${token}`)).statusCode,
      (await get(`Bearer ${token}`)).statusCode,
    ]
    expect(codes).toEqual([200, 200, 429, 429])
  })

  it('counts the readings of a request, not just the request, with Retry-After and a reason', async () => {
    app = await bare({ deviceRequests: 100 })
    const authorization = `Bearer ${deviceToken('plugin-test-secret', 'meter', 'A')}`
    const post = (count: number) =>
      app.inject({
        method: 'POST',
        url: '/readings',
        headers: { authorization },
        payload: Array(count).fill(1),
      })
    expect((await post(5000)).statusCode).toBe(200)
    const refused = await post(5000)
    expect(refused.statusCode).toBe(429)
    expect(refused.headers['retry-after']).toBe('60')
    expect(refused.json()).toEqual({
      code: 'INGEST_RATE_LIMITED',
      message: 'rate limit: 6000 readings per 60000 ms exceeded for this token; retry in 60 s',
    })
    expect((await post(1000)).statusCode).toBe(200)
    expect((await post(1)).statusCode).toBe(429)
  })
})
