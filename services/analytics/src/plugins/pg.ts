import fp from 'fastify-plugin'
import pg from 'pg'

declare module 'fastify' {
  interface FastifyInstance {
    /** Connections for requests. */
    replica: pg.Pool
    /** One connection of its own for the readiness probe, so that it never queues behind requests. */
    replicaProbe: pg.Pool
  }
}

// numeric stays a string (exact) until a route converts it at the edge; int8 counts fit a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v))

/** pg allows this long beyond the server-side statement timeout before it gives up on an answer. */
const CLIENT_GRACE_MS = 1_000

export interface PgOptions {
  connectionString: string
  max: number
  statementTimeoutMs: number
  connectTimeoutMs: number
  idleTimeoutMs: number
  idleInTransactionTimeoutMs: number
  /** TCP keepalive idle time; 0 = off. */
  keepAliveMs: number
  /** Connect and statement timeout of the probe's connection. */
  probeTimeoutMs: number
}

/** Options of a pool to the replica whose every wait is bounded. */
export function poolOptions(
  o: PgOptions,
  use: { max: number; statementTimeoutMs: number; connectTimeoutMs: number; name: string },
): pg.PoolConfig {
  return {
    connectionString: o.connectionString,
    max: use.max,
    // Waiting for a free pooled connection, or for a new one to connect.
    connectionTimeoutMillis: use.connectTimeoutMs,
    idleTimeoutMillis: o.idleTimeoutMs,
    // Server side: a statement is cancelled past this; a session idle inside a transaction is ended.
    statement_timeout: use.statementTimeoutMs,
    idle_in_transaction_session_timeout: o.idleInTransactionTimeoutMs,
    // Client side: a server that stopped answering (a partition, a hung host) cannot cancel anything.
    query_timeout: use.statementTimeoutMs + CLIENT_GRACE_MS,
    keepAlive: o.keepAliveMs > 0,
    ...(o.keepAliveMs > 0 ? { keepAliveInitialDelayMillis: o.keepAliveMs } : {}),
    application_name: use.name,
    options: '-c TimeZone=UTC',
  }
}

/** The pools to the read replica, every wait bounded; both end on close. */
export default fp(
  async function pgPools(app, opts: PgOptions) {
    const pool = new pg.Pool(
      poolOptions(opts, {
        max: opts.max,
        statementTimeoutMs: opts.statementTimeoutMs,
        connectTimeoutMs: opts.connectTimeoutMs,
        name: 'energy-analytics',
      }),
    )
    const probe = new pg.Pool(
      poolOptions(opts, {
        max: 1,
        statementTimeoutMs: opts.probeTimeoutMs,
        connectTimeoutMs: opts.probeTimeoutMs,
        name: 'energy-analytics-health',
      }),
    )
    // An idle client's connection can drop (replica restart): log it; the pool replaces the client.
    pool.on('error', (err) => app.log.warn({ err }, 'idle replica connection failed'))
    probe.on('error', (err) => app.log.warn({ err }, 'idle readiness-probe connection failed'))
    app.decorate('replica', pool)
    app.decorate('replicaProbe', probe)
    app.addHook('onClose', async () => {
      await Promise.all([pool.end(), probe.end()])
    })
  },
  { name: 'pg', fastify: '5.x' },
)
