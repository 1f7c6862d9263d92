import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errorResponses } from '../schemas.js'

const PingSchema = Type.Object({ ok: Type.Literal(true) }, { additionalProperties: false })

/**
 * GET /v1/ping: one trivial query (`SELECT 1`) on the request pool, behind the same auth, error
 * handler and serialisation as every analytics route. The analytics bench measures it in the same run
 * as the routes, so their latencies can be read as ratios to the cost of the service itself.
 */
const baselineRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/ping',
    {
      schema: {
        hide: true,
        response: { 200: PingSchema, ...errorResponses },
      },
    },
    async () => {
      await app.replica.query('SELECT 1')
      return { ok: true as const }
    },
  )
}

export default baselineRoutes
