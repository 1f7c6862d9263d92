import pg from 'pg'
import type { Logger } from 'pino'
import type { Config } from './config.js'

export type PoolSettings = Pick<
  Config,
  | 'DATABASE_URL'
  | 'PG_CONNECT_TIMEOUT_MS'
  | 'PG_STATEMENT_TIMEOUT_MS'
  | 'PG_IDLE_IN_TRANSACTION_TIMEOUT_MS'
  | 'PG_KEEPALIVE_IDLE_MS'
>

/**
 * A pool of writer connections to the primary, with the limits every connection needs: a connect that
 * gives up, a statement timeout, a server-side end to a transaction left idle (a stuck writer must not
 * hold locks and snapshots for ever), and TCP keepalive (a peer that vanished without a FIN is noticed).
 *
 * A connection that fails emits 'error' on its client; unhandled, that would crash the process. The
 * pool listens while a client is idle (and discards it); while a client is checked out nobody does, so
 * every client gets a listener of its own when it connects. Its owner's next query then fails, and a
 * client that is no longer queryable is discarded on release.
 */
export function createPool(
  settings: PoolSettings,
  opts: { max: number; name: string; log: Logger },
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: settings.DATABASE_URL,
    max: opts.max,
    application_name: opts.name,
    // 0 means no limit, for pg as for these settings.
    connectionTimeoutMillis: settings.PG_CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: settings.PG_KEEPALIVE_IDLE_MS,
    ...(settings.PG_STATEMENT_TIMEOUT_MS > 0 ? { statement_timeout: settings.PG_STATEMENT_TIMEOUT_MS } : {}),
    ...(settings.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS > 0
      ? { idle_in_transaction_session_timeout: settings.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS }
      : {}),
  })
  // Already logged by the client's own listener below; the pool has dropped the client.
  pool.on('error', () => {})
  pool.on('connect', (client) => {
    client.on('error', (err) =>
      opts.log.warn({ err, pool: opts.name }, 'PostgreSQL connection lost; the client is discarded'),
    )
  })
  return pool
}
