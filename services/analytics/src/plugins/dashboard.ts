import createError from '@fastify/error'
import fp from 'fastify-plugin'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** dist/dashboard of this package (from src/plugins in tests, from dist/plugins when built). */
export const DASHBOARD_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'dashboard')

const NotBuilt = createError(
  'ANALYTICS_DASHBOARD_NOT_BUILT',
  'the dashboard assets are not built (%s is missing); run npm run build',
  503,
)
const NoSuchAsset = createError('ANALYTICS_NOT_FOUND', 'route GET /dashboard/%s does not exist', 404)

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

// Everything the page loads comes from this service; the API it calls is same-origin.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ')

/**
 * Serves the dashboard built by scripts/build-dashboard.mjs: /dashboard/ and the few files next to
 * it, read once at start (a few hundred kB). No key is needed for the page itself; it asks for one and
 * sends it with every API call.
 */
export default fp(
  async function dashboard(app, opts: { dir?: string }) {
    const dir = opts.dir ?? DASHBOARD_DIR
    const files = new Map<string, Buffer>()
    if (existsSync(dir)) {
      for (const name of readdirSync(dir)) {
        if (TYPES[extname(name)] !== undefined) files.set(name, readFileSync(join(dir, name)))
      }
    }
    const send = (name: string) => {
      const body = files.get(name)
      if (body === undefined) throw files.size === 0 ? new NotBuilt(dir) : new NoSuchAsset(name)
      return body
    }
    const schema = { hide: true }
    app.get('/dashboard', { schema }, async (_req, reply) => reply.redirect('/dashboard/', 302))
    app.get('/dashboard/', { schema }, async (_req, reply) =>
      reply
        .type(TYPES['.html']!)
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-cache')
        .send(send('index.html')),
    )
    app.get<{ Params: { file: string } }>('/dashboard/:file', { schema }, async (req, reply) => {
      const name = req.params.file
      const body = send(name)
      return reply
        .type(TYPES[extname(name)]!)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-cache')
        .send(body)
    })
  },
  { name: 'dashboard', fastify: '5.x' },
)
