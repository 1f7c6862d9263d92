import fp from 'fastify-plugin'

/**
 * Body formats of the scope it is registered in: JSON only (Fastify's parser, which also refuses
 * __proto__ keys), so text/plain is a 415 and never a string body that fails validation further
 * down. The batch route adds NDJSON in its own scope.
 */
export default fp(
  async function bodyParsers(app) {
    app.removeContentTypeParser(['text/plain'])
  },
  { name: 'body-parsers', fastify: '5.x' },
)
