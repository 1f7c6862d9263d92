// withClient / withTransaction and the error mapper, against the real PostgreSQL.
import { createTestDatabase, type TestDatabase } from '@energy-ingest/testenv'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import {
  SQLSTATE,
  TransactionAbortedError,
  answeredByServer,
  describePgError,
  withClient,
  withReadSnapshot,
  withTransaction,
} from '../../src/index.js'
import type { Queryable } from '../../src/types.js'

async function failureOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

describe('transactions', () => {
  let db: TestDatabase
  let pool: pg.Pool
  let other: pg.Pool

  const ids = async () =>
    (await other.query<{ id: number }>('SELECT id FROM tx_probe ORDER BY id')).rows.map((r) => r.id)
  const insert = (db: Queryable, id: number, v = 0) =>
    db.query('INSERT INTO tx_probe (id, v) VALUES ($1, $2)', [id, v])

  beforeAll(async () => {
    db = await createTestDatabase(inject('testenv'))
    // One client: a client that went back to the pool is the next one handed out.
    pool = new pg.Pool({ connectionString: db.url, max: 1 })
    other = new pg.Pool({ connectionString: db.url, max: 2 })
    pool.on('error', () => {}) // a client terminated by DROP DATABASE … WITH (FORCE) at teardown
    other.on('error', () => {})
    await other.query('CREATE TABLE tx_probe (id int PRIMARY KEY, v int NOT NULL CHECK (v >= 0))')
  })

  beforeEach(async () => {
    await other.query('TRUNCATE tx_probe')
  })

  afterAll(async () => {
    await pool?.end()
    await other?.end()
    await db?.drop()
  })

  it('commits when the function resolves, and returns its value', async () => {
    const value = await withTransaction(pool, async (client) => {
      await insert(client, 1)
      await insert(client, 2)
      return 'done'
    })
    expect(value).toBe('done')
    expect(await ids()).toEqual([1, 2])
  })

  it('rolls back and rethrows when the function throws; the client goes back to the pool', async () => {
    const pid = await withClient(
      pool,
      async (c) => (await c.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p,
    )
    const boom = Object.assign(new Error('boom'), { code: '23514' }) // as if the server had refused
    const thrown = await failureOf(
      withTransaction(pool, async (client) => {
        await insert(client, 1)
        throw boom
      }),
    )
    expect(thrown).toBe(boom)
    expect(await ids()).toEqual([])
    const again = await withClient(
      pool,
      async (c) => (await c.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p,
    )
    expect(again).toBe(pid)
  })

  it('closes a client whose failure did not come from the server', async () => {
    const pid = await withClient(
      pool,
      async (c) => (await c.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p,
    )
    await expect(
      withTransaction(pool, async (client) => {
        await insert(client, 1)
        throw new Error('client-side read timeout')
      }),
    ).rejects.toThrow('client-side read timeout')
    expect(await ids()).toEqual([])
    const again = await withClient(
      pool,
      async (c) => (await c.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p,
    )
    expect(again).not.toBe(pid)
  })

  it('nests as savepoints: an inner failure undoes only the inner work', async () => {
    await withTransaction(pool, async (client) => {
      await insert(client, 1)
      await expect(
        withTransaction(client, async () => {
          await insert(client, 2)
          await insert(client, 1) // unique violation: the transaction is aborted up to the savepoint
        }),
      ).rejects.toMatchObject({ code: SQLSTATE.UNIQUE_VIOLATION })
      await withTransaction(client, async () => {
        await insert(client, 3)
        await withTransaction(client, () => insert(client, 4)) // two levels deep
      })
      await insert(client, 5)
    })
    expect(await ids()).toEqual([1, 3, 4, 5])
  })

  it('undoes a released savepoint when the outer transaction fails', async () => {
    await expect(
      withTransaction(pool, async (client) => {
        await withTransaction(client, () => insert(client, 1))
        throw Object.assign(new Error('later'), { code: 'P0001' })
      }),
    ).rejects.toThrow('later')
    expect(await ids()).toEqual([])
  })

  it('refuses a write in a read-only transaction', async () => {
    const err = await failureOf(withTransaction(pool, (client) => insert(client, 1), { readOnly: true }))
    expect(describePgError(err)).toMatchObject({ class: 'server', sqlState: SQLSTATE.READ_ONLY_TRANSACTION })
    expect(await ids()).toEqual([])
    // The next transaction on the same client is an ordinary read-write one.
    await withTransaction(pool, (client) => insert(client, 1))
    expect(await ids()).toEqual([1])
  })

  it('reads one snapshot in a repeatable read transaction', async () => {
    await insert(other, 1)
    const seen = await withTransaction(
      pool,
      async (client) => {
        const before = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM tx_probe')
        await insert(other, 2) // committed by another session meanwhile
        const after = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM tx_probe')
        const level = await client.query<{ l: string }>(
          `SELECT current_setting('transaction_isolation') AS l`,
        )
        return [before.rows[0]!.n, after.rows[0]!.n, level.rows[0]!.l]
      },
      { isolation: 'repeatable read', readOnly: true },
    )
    expect(seen).toEqual([1, 1, 'repeatable read'])
  })

  it('reads a snapshot whose first statement came with BEGIN, and commits after answering', async () => {
    await insert(other, 1)
    const ok = await withReadSnapshot<unknown[], { n: number; l: string; ro: string }>(
      pool,
      `SELECT count(*)::int AS n, current_setting('transaction_isolation') AS l,
              current_setting('transaction_read_only') AS ro FROM tx_probe`,
      async (client, first) => {
        await insert(other, 4)
        const after = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM tx_probe')
        return [first[0], after.rows[0]!.n]
      },
    )
    expect(ok).toEqual([{ n: 1, l: 'repeatable read', ro: 'on' }, 1])
    // The COMMIT ran after the answer: the one pooled client comes back idle, outside a transaction.
    const state = await withClient(pool, async (client) => {
      const { rows } = await client.query<{ s: string }>(
        'SELECT pg_current_xact_id_if_assigned() IS NULL AS s',
      )
      const tx = await client.query<{ status: string }>(`SELECT now() = statement_timestamp() AS status`)
      return [rows[0]!.s, tx.rows[0]!.status]
    })
    expect(state).toEqual([true, true])
    expect(await ids()).toEqual([1, 4])
  })

  it('rolls a read snapshot back when a statement fails, and keeps the client', async () => {
    const used: pg.PoolClient[] = []
    const err = await failureOf(
      withReadSnapshot(pool, 'SELECT 1 AS one', async (client) => {
        used.push(client)
        await client.query('SELECT 1 / 0')
      }),
    )
    expect(describePgError(err)).toMatchObject({ class: 'data', sqlState: '22012' })
    expect(pool.totalCount).toBe(1)
    await withClient(pool, async (c) => expect(c).toBe(used[0]))
    const status = await withClient(pool, async (c) => (await c.query(`SELECT 'free' AS s`)).rows[0])
    expect(status).toEqual({ s: 'free' })
  })

  it('refuses isolation or read-only on a nested call', async () => {
    await expect(
      withTransaction(pool, (client) => withTransaction(client, () => insert(client, 1), { readOnly: true })),
    ).rejects.toThrow(/outermost/)
    expect(await ids()).toEqual([])
  })

  it('reports a transaction whose error was swallowed instead of pretending it committed', async () => {
    const err = await failureOf(
      withTransaction(pool, async (client) => {
        await insert(client, 1)
        await insert(client, 1).catch(() => undefined)
      }),
    )
    expect(err).toBeInstanceOf(TransactionAbortedError)
    expect(await ids()).toEqual([])
  })
})

describe('the error mapper', () => {
  let db: TestDatabase
  let client: pg.Client

  beforeAll(async () => {
    db = await createTestDatabase(inject('testenv'))
    client = new pg.Client({ connectionString: db.url })
    client.on('error', () => {})
    await client.connect()
    await client.query('CREATE TABLE map_probe (id int PRIMARY KEY, v int NOT NULL CHECK (v >= 0))')
    await client.query('INSERT INTO map_probe VALUES (1, 1)')
  })

  afterAll(async () => {
    await client?.end()
    await db?.drop()
  })

  const refusal = (sql: string) => failureOf(client.query(sql))

  it('maps integrity and data errors with their SQLSTATE and constraint', async () => {
    expect(describePgError(await refusal('INSERT INTO map_probe VALUES (1, 2)'))).toMatchObject({
      class: 'data',
      sqlState: '23505',
      constraint: 'map_probe_pkey',
    })
    expect(describePgError(await refusal('INSERT INTO map_probe VALUES (2, -1)'))).toMatchObject({
      class: 'data',
      sqlState: '23514',
      constraint: 'map_probe_v_check',
    })
    expect(describePgError(await refusal(`SELECT 'x'::int`))).toMatchObject({
      class: 'data',
      sqlState: '22P02',
    })
  })

  it('maps other server errors as server, and errors without an answer as connection', async () => {
    const missing = describePgError(await refusal('SELECT * FROM no_such_table'))
    expect(missing).toMatchObject({ class: 'server', sqlState: '42P01' })
    expect(missing.constraint).toBeUndefined()
    const closedPort = new URL(db.url)
    closedPort.port = '1' // nothing listens there: the connect is refused
    const refused = new pg.Client({ connectionString: closedPort.toString(), connectionTimeoutMillis: 2_000 })
    const err = await failureOf(refused.connect())
    expect(err).toBeInstanceOf(Error)
    expect(describePgError(err)).toMatchObject({ class: 'connection' })
    expect(describePgError(err).sqlState).toBeUndefined()
    expect(answeredByServer(err)).toBe(false)
  })

  it('finds the SQLSTATE of an error wrapped as a cause', async () => {
    const pgErr = await refusal('SELECT * FROM no_such_table')
    expect(answeredByServer(new Error('store failed', { cause: pgErr }))).toBe(true)
    expect(describePgError('not an error')).toEqual({ class: 'connection', message: 'not an error' })
  })
})
