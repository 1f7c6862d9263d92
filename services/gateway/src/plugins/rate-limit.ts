import fp from 'fastify-plugin'
import type { Principal } from '../auth/tokens.js'
import { RateLimited } from '../errors.js'
import { FixedWindowLimiter, type Refusal } from '../rate-limit/fixed-window.js'

export interface RateLimitOptions {
  /** Requests per window of one device token; readings per window of one device token. */
  deviceRequests: number
  deviceReadings: number
  /** The same for one fleet token; 0: not limited (aggregators, load tests). */
  fleetRequests: number
  fleetReadings: number
  windowMs: number
  now: () => number
}

export interface RateLimit {
  /** Counts `count` readings against the principal's budget; throws a 429 error when it is spent. */
  chargeReadings(principal: Principal, count: number): void
}

declare module 'fastify' {
  interface FastifyInstance {
    rateLimit: RateLimit
  }
}

/** Identities tracked at once (~100 bytes each); past it the oldest window is forgotten. */
const MAX_IDENTITIES = 100_000

function refused(r: Refusal, windowMs: number) {
  return Object.assign(new RateLimited(`${r.limit} ${r.budget}`, windowMs, r.retryAfterS), {
    retryAfterS: r.retryAfterS,
  })
}

/**
 * Per-identity budgets of requests and of readings over a fixed window (429 with Retry-After). Runs
 * after auth, so the key is the checked token's identity: never a header spelling, never an IP guess.
 * Requests are counted before the body is read; routes count readings once they know how many.
 */
export default fp(
  async function tokenRateLimit(app, opts: RateLimitOptions) {
    const limiter = new FixedWindowLimiter({
      windowMs: opts.windowMs,
      now: opts.now,
      maxKeys: MAX_IDENTITIES,
    })
    const fleet = (p: Principal) => p.kind === 'fleet'

    app.decorate('rateLimit', {
      chargeReadings(principal, count) {
        const limit = fleet(principal) ? opts.fleetReadings : opts.deviceReadings
        const charge = limiter.chargeReadings(principal.identity, count, limit)
        if (!charge.ok) throw refused(charge, opts.windowMs)
      },
    } satisfies RateLimit)

    app.addHook('onRequest', async (req) => {
      const principal = req.principal
      if (principal === null) return
      const limit = fleet(principal) ? opts.fleetRequests : opts.deviceRequests
      const charge = limiter.chargeRequest(principal.identity, limit)
      if (!charge.ok) throw refused(charge, opts.windowMs)
    })
  },
  { name: 'token-rate-limit', fastify: '5.x', dependencies: ['auth'] },
)
