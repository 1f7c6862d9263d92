import rateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import { RateLimited } from '../errors.js'

export interface RateLimitOptions {
  deviceMax: number
  /** 0: fleet tokens (aggregators, load tests) are not limited. */
  fleetMax: number
  windowMs: number
}

/** Per-token request limit (429); runs after auth, so the key is a checked token, never an IP guess. */
export default fp(
  async function tokenRateLimit(app, opts: RateLimitOptions) {
    await app.register(rateLimit, {
      global: true,
      timeWindow: opts.windowMs,
      keyGenerator: (req) => req.headers.authorization ?? req.ip,
      max: (req) => (req.principal?.kind === 'fleet' ? opts.fleetMax : opts.deviceMax),
      allowList: (req) => req.principal?.kind === 'fleet' && opts.fleetMax === 0,
      errorResponseBuilder: (req) =>
        new RateLimited(req.principal?.kind === 'fleet' ? opts.fleetMax : opts.deviceMax, opts.windowMs),
    })
  },
  { name: 'token-rate-limit', fastify: '5.x', dependencies: ['auth'] },
)
