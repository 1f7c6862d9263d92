// All checkouts and transactions go through here: one release rule, one BEGIN/COMMIT/ROLLBACK shape.
import type { ClientBase, Pool, PoolClient } from 'pg'
import { answeredByServer } from './pg-errors.js'

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable'

export interface TransactionOptions {
  /** Default: the server's (read committed). Only for an outermost transaction. */
  isolation?: IsolationLevel
  /** The server refuses every write (SQLSTATE 25006). Only for an outermost transaction. */
  readOnly?: boolean
}

/** Where withClient checks clients out: a Pool, or anything with its connect(). */
export interface ClientSource<C extends ClientBase = PoolClient> {
  connect(): Promise<C & { release(err?: Error | boolean): void }>
}

/** Savepoint depth per client: 0 or absent outside withTransaction. */
const depth = new WeakMap<ClientBase, number>()
/** Clients whose ROLLBACK failed: their session state is unknown, so they are not pooled again. */
const unusable = new WeakSet<ClientBase>()

/**
 * Checks a client out of `pool`, runs `fn` with it and releases it. A client is closed instead of
 * returned when `fn` failed without an answer from the server (a lost connection, a client-side read
 * timeout) or a rollback of its own failed: whatever it was doing may still be running.
 */
export async function withClient<T, C extends ClientBase = PoolClient>(
  pool: ClientSource<C>,
  fn: (client: C) => Promise<T>,
): Promise<T> {
  const client = await pool.connect()
  let result: T
  try {
    result = await fn(client)
  } catch (err) {
    releaseAfterFailure(client, err)
    throw err
  }
  client.release()
  return result
}

/** Releases a client whose work failed with `err`: pooled again only if its state is known. */
function releaseAfterFailure<C extends ClientBase>(
  client: C & { release(err?: Error | boolean): void },
  err: unknown,
): void {
  const answered = answeredByServer(err) || err instanceof TransactionAbortedError
  const broken = unusable.has(client) || !answered
  client.release(broken ? (err instanceof Error ? err : new Error(String(err))) : undefined)
}

function isPool<C extends ClientBase>(db: Pool | C): db is Pool {
  // A Pool counts its clients; a client has no such field (instanceof fails across pg copies).
  return 'totalCount' in db
}

function beginStatement(opts: TransactionOptions): string {
  let sql = 'BEGIN'
  if (opts.isolation) sql += ` ISOLATION LEVEL ${opts.isolation.toUpperCase()}`
  if (opts.readOnly) sql += ' READ ONLY'
  return sql
}

/**
 * Runs `fn` in a transaction: COMMIT when it resolves, ROLLBACK when it throws (the error is rethrown).
 * Given a pool, checks a client out for it (withClient). Called again for a client already inside
 * withTransaction, it opens a savepoint instead, rolled back to on a throw, so the outer transaction
 * can go on; isolation and read-only belong to the outermost transaction and are refused there.
 */
export function withTransaction<T>(
  pool: Pool,
  fn: (client: PoolClient) => Promise<T>,
  opts?: TransactionOptions,
): Promise<T>
export function withTransaction<T, C extends ClientBase>(
  client: C,
  fn: (client: C) => Promise<T>,
  opts?: TransactionOptions,
): Promise<T>
export async function withTransaction<T, C extends ClientBase>(
  db: Pool | C,
  fn: (client: C) => Promise<T>,
  opts: TransactionOptions = {},
): Promise<T> {
  // Given a pool, C is PoolClient (the first overload).
  if (isPool(db)) return withClient(db, (client) => inTransaction(client as unknown as C, fn, opts))
  return inTransaction(db, fn, opts)
}

async function inTransaction<T, C extends ClientBase>(
  db: C,
  fn: (client: C) => Promise<T>,
  opts: TransactionOptions,
): Promise<T> {
  const level = depth.get(db) ?? 0
  if (level > 0 && (opts.isolation !== undefined || opts.readOnly !== undefined))
    throw new Error('isolation and readOnly apply to the outermost transaction only')
  const savepoint = `tx_${level}`
  await db.query(level === 0 ? beginStatement(opts) : `SAVEPOINT ${savepoint}`)
  depth.set(db, level + 1)
  let result: T
  try {
    result = await fn(db)
  } catch (err) {
    depth.set(db, level)
    const undo =
      level === 0 ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}`
    await db.query(undo).catch(() => unusable.add(db))
    throw err
  }
  depth.set(db, level)
  let end
  try {
    end = await db.query(level === 0 ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`)
  } catch (err) {
    // A failed COMMIT ends the transaction; a failed RELEASE leaves the outer one to roll back.
    if (level === 0) await db.query('ROLLBACK').catch(() => unusable.add(db))
    throw err
  }
  // The server answers COMMIT of a failed transaction with ROLLBACK: `fn` swallowed an error.
  if (end.command === 'ROLLBACK') throw new TransactionAbortedError()
  return result
}

/**
 * A read-only REPEATABLE READ snapshot in as few round trips as the protocol allows, for reads whose
 * latency matters: BEGIN and `first` (a statement without parameters) go in one simple-protocol
 * message, and `fn` gets `first`'s rows; when `fn` resolves, its value is returned at once and the
 * COMMIT runs after, the client going back to the pool (or closed, if the COMMIT fails) when it ends.
 * Nothing was written, so nothing the caller returns depends on that COMMIT. When `fn` throws, the
 * transaction is rolled back before the error is rethrown, as withTransaction does.
 */
export async function withReadSnapshot<T, R extends Record<string, unknown>>(
  pool: ClientSource<PoolClient>,
  first: string,
  fn: (client: PoolClient, firstRows: R[]) => Promise<T>,
): Promise<T> {
  const client = await pool.connect()
  let result: T
  try {
    const replies = (await client.query(
      `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${first}`,
    )) as unknown as { rows: R[] }[]
    depth.set(client, 1)
    result = await fn(client, replies[1]!.rows)
  } catch (err) {
    depth.set(client, 0)
    await client.query('ROLLBACK').catch(() => unusable.add(client))
    releaseAfterFailure(client, err)
    throw err
  }
  depth.set(client, 0)
  client.query('COMMIT').then(
    () => client.release(),
    (err: Error) => client.release(err),
  )
  return result
}

/** `fn` caught a statement's error and returned; the server rolled the transaction back at COMMIT. */
export class TransactionAbortedError extends Error {
  readonly code = 'DB_TRANSACTION_ABORTED'
  constructor() {
    super('the transaction had failed and was rolled back at COMMIT')
    this.name = 'TransactionAbortedError'
  }
}
