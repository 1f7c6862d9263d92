import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import health, { readiness } from './health.js'

describe('readiness', () => {
  it('is ok only when every named check is', async () => {
    const answer = await readiness({
      timeoutMs: 1000,
      checks: {
        kafka: () => ({ ok: true }),
        database: async () => ({ ok: false, reason: 'unreachable', details: { replica: true } }),
        broken: () => {
          throw new Error('boom')
        },
      },
    })
    expect(answer).toEqual({
      status: 'unavailable',
      checks: {
        kafka: { ok: true },
        database: { ok: false, reason: 'unreachable', details: { replica: true } },
        broken: { ok: false, reason: 'boom' },
      },
    })
  })

  it('fails a check that does not answer in time', async () => {
    const answer = await readiness({ timeoutMs: 5, checks: { slow: () => new Promise<never>(() => {}) } })
    expect(answer.checks.slow).toEqual({ ok: false, reason: 'timed out' })
  })
})

describe('health plugin', () => {
  it('answers live always and ready by its checks, in one shape', async () => {
    let ok = false
    let runs = 0
    const app = Fastify({ logger: false })
    await app.register(health, {
      timeoutMs: 1000,
      checks: {
        dep: async () => {
          runs++
          return ok ? { ok } : { ok, reason: 'down' }
        },
      },
    })
    try {
      expect((await app.inject({ url: '/health/live' })).json()).toEqual({ status: 'ok', checks: {} })
      const [a, b] = await Promise.all([
        app.inject({ url: '/health/ready' }),
        app.inject({ url: '/health/ready' }),
      ])
      expect(a.statusCode).toBe(503)
      expect(a.json()).toEqual({ status: 'unavailable', checks: { dep: { ok: false, reason: 'down' } } })
      expect(b.statusCode).toBe(503)
      expect(runs).toBe(1) // probes that arrive together share one run
      ok = true
      const ready = await app.inject({ url: '/health/ready' })
      expect(ready.statusCode).toBe(200)
      expect(ready.json()).toEqual({ status: 'ok', checks: { dep: { ok: true } } })
    } finally {
      await app.close()
    }
  })
})
