import fp from 'fastify-plugin'
import { parseNdjson } from '../ndjson.js'

/**
 * Body formats of the scope it is registered in: JSON (Fastify's parser, which also refuses
 * __proto__ keys), NDJSON for batch routes, and nothing else, so text/plain is a 415 and never a
 * string body that fails validation further down.
 */
export default fp(
  async function bodyParsers(app, opts: { ndjsonBodyLimitBytes: number }) {
    app.removeContentTypeParser(['text/plain'])
    app.addContentTypeParser(
      'application/x-ndjson',
      { parseAs: 'string', bodyLimit: opts.ndjsonBodyLimitBytes },
      (_req, body, done) => done(null, parseNdjson(body as string)),
    )
  },
  { name: 'body-parsers', fastify: '5.x' },
)
