import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import { Unauthorized } from '../errors.js'

const digest = (s: string) => createHash('sha256').update(s).digest()

/** `Authorization: Bearer <key>` with a key from ANALYTICS_API_KEYS, compared in constant time. */
export default fp(
  async function auth(app, opts: { keys: string[] }) {
    const keys = opts.keys.map(digest)
    app.addHook('onRequest', async (req) => {
      const header = req.headers.authorization
      if (header === undefined) throw new Unauthorized('missing Bearer API key')
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
      if (!match) throw new Unauthorized('expected "Bearer <API key>"')
      const given = digest(match[1]!)
      // Compare against every key (no early exit), on fixed-length digests.
      let ok = false
      for (const key of keys) ok = timingSafeEqual(given, key) || ok
      if (!ok) throw new Unauthorized('unknown API key')
    })
  },
  { name: 'auth', fastify: '5.x' },
)
