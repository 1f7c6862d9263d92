import fp from 'fastify-plugin'
import { TokenVerifier, type Principal } from '../auth/tokens.js'
import { Unauthorized } from '../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenVerifier
  }
  interface FastifyRequest {
    principal: Principal | null
  }
}

/**
 * Bearer-token check of every route in the scope it is registered in (the /v1 routes). A device token
 * is bound to its device by the route once the body names one (403 otherwise).
 */
export default fp(
  async function auth(app, opts: { secret: string; fleetTokens: string[] }) {
    const tokens = new TokenVerifier(opts.secret, opts.fleetTokens)
    app.decorate('tokens', tokens)
    app.decorateRequest('principal', null)
    app.addHook('onRequest', async (req) => {
      const result = tokens.check(req.headers.authorization)
      if (!result.ok) throw new Unauthorized(result.reason)
      req.principal = result.principal
    })
  },
  { name: 'auth', fastify: '5.x' },
)
