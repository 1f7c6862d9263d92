// The one place that reads a PostgreSQL error: its SQLSTATE, constraint and what a caller should do.

/** SQLSTATEs the code branches on (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
export const SQLSTATE = {
  UNIQUE_VIOLATION: '23505',
  /** Also "no partition of relation … found for row". */
  CHECK_VIOLATION: '23514',
  READ_ONLY_TRANSACTION: '25006',
  SERIALIZATION_FAILURE: '40001',
  DEADLOCK_DETECTED: '40P01',
  LOCK_NOT_AVAILABLE: '55P03',
  QUERY_CANCELED: '57014',
} as const

/**
 * - `data`: the server refuses these rows themselves (class 22 data exception, 23 integrity
 *   violation); the same rows fail the same way again.
 * - `server`: any other error the server sent (deadlock, serialization failure, lock or statement
 *   timeout, shutdown, a missing table); the connection is fine and the statement may succeed later.
 * - `connection`: no answer from the server (connection lost or refused, a client-side timeout); the
 *   connection's state is unknown.
 */
export type PgErrorClass = 'data' | 'server' | 'connection'

export interface PgErrorInfo {
  class: PgErrorClass
  /** Five-character SQLSTATE, when the server sent the error. */
  sqlState?: string
  constraint?: string
  message: string
}

const SQLSTATE_PATTERN = /^[0-9A-Z]{5}$/

/** The SQLSTATE of an error the server sent; undefined for anything else (ECONNREFUSED is not one). */
export function sqlStateOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined
  const code = err.code
  return typeof code === 'string' && SQLSTATE_PATTERN.test(code) ? code : undefined
}

/**
 * The server answered: `err`, or an error it wraps (`cause`, a few levels deep), carries a SQLSTATE.
 * Otherwise the connection's state is unknown (lost, or a statement still running after a client-side
 * timeout).
 */
export function answeredByServer(err: unknown): boolean {
  let e: unknown = err
  for (let level = 0; level < 4 && typeof e === 'object' && e !== null; level++) {
    if (sqlStateOf(e) !== undefined) return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}

/** Classifies any thrown value and keeps the fields a dead letter or a log needs. */
export function describePgError(err: unknown): PgErrorInfo {
  const sqlState = sqlStateOf(err)
  const e =
    typeof err === 'object' && err !== null ? (err as { constraint?: unknown; message?: unknown }) : {}
  const info: PgErrorInfo = {
    class: sqlState === undefined ? 'connection' : /^2[23]/.test(sqlState) ? 'data' : 'server',
    message: typeof e.message === 'string' ? e.message : String(err),
  }
  if (sqlState !== undefined) info.sqlState = sqlState
  if (typeof e.constraint === 'string') info.constraint = e.constraint
  return info
}
