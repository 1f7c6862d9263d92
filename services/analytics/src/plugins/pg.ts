import fp from 'fastify-plugin'
import pg from 'pg'

declare module 'fastify' {
  interface FastifyInstance {
    replica: pg.Pool
  }
}

// numeric stays a string (exact) until a route converts it at the edge; int8 counts fit a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v))

/** The one pool to the read replica. Every statement has a timeout; the pool ends on close. */
export default fp(
  async function pgPool(app, opts: { connectionString: string; max: number; statementTimeoutMs: number }) {
    const pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.max,
      statement_timeout: opts.statementTimeoutMs,
      connectionTimeoutMillis: 3_000,
      idleTimeoutMillis: 30_000,
      application_name: 'energy-analytics',
      options: '-c TimeZone=UTC',
    })
    // An idle client's connection can drop (replica restart): log it; the pool replaces the client.
    pool.on('error', (err) => app.log.warn({ err }, 'idle replica connection failed'))
    app.decorate('replica', pool)
    app.addHook('onClose', async () => {
      await pool.end()
    })
  },
  { name: 'pg', fastify: '5.x' },
)
