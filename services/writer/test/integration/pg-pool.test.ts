// The writer's PostgreSQL connections: session timeouts as configured, a connect that gives up, and a
// connection that dies (terminated, or idle in a transaction too long) neither crashes the process
// with an unhandled 'error' event nor goes back into use.
import { createServer, type Server, type Socket } from 'node:net'
import { holdTransaction } from '@energy-ingest/db/internal'
import { createTestDatabase, eventually, type TestDatabase } from '@energy-ingest/testenv'
import pg from 'pg'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createPool } from '../../src/pg-pool.js'

const log = pino({ level: 'silent' })

describe('writer PostgreSQL pool', () => {
  let db: TestDatabase
  let admin: pg.Client
  let pool: pg.Pool

  beforeAll(async () => {
    db = await createTestDatabase(inject('testenv'))
    admin = new pg.Client({ connectionString: db.url })
    admin.on('error', () => {}) // terminated by DROP DATABASE … WITH (FORCE) at teardown
    await admin.connect()
    const config = loadConfig({
      DATABASE_URL: db.url,
      PG_STATEMENT_TIMEOUT_MS: '250000',
      PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: '300',
      PG_KEEPALIVE_IDLE_MS: '5000',
    })
    pool = createPool(config, { max: 2, name: 'energy-writer-test', log })
  })

  afterAll(async () => {
    await pool?.end()
    await admin?.end()
    await db?.drop()
  })

  const terminate = (pid: number) => admin.query('SELECT pg_terminate_backend($1)', [pid])
  const pidOf = async (client: pg.PoolClient) =>
    (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid

  it('sets statement_timeout and idle_in_transaction_session_timeout on every connection', async () => {
    const { rows } = await pool.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings
       WHERE name IN ('statement_timeout', 'idle_in_transaction_session_timeout', 'application_name')
       ORDER BY name`,
    )
    expect(rows).toEqual([
      { name: 'application_name', setting: 'energy-writer-test' },
      { name: 'idle_in_transaction_session_timeout', setting: '300' },
      { name: 'statement_timeout', setting: '250000' },
    ])
  })

  it('survives a checked-out connection terminated between statements, and discards it', async () => {
    const client = await pool.connect()
    const pid = await pidOf(client)
    const ended = new Promise((resolve) => client.once('end', resolve))
    await terminate(pid)
    await ended // the 'error' event came first, with no query to fail: it must not be unhandled
    await expect(client.query('SELECT 1')).rejects.toThrow()
    client.release()
    const again = await pool.connect()
    try {
      expect(await pidOf(again)).not.toBe(pid)
    } finally {
      again.release()
    }
  })

  it('survives an idle pooled connection terminated, and discards it', async () => {
    const client = await pool.connect()
    const pid = await pidOf(client)
    client.release()
    await terminate(pid)
    await eventually(() => pool.totalCount === 0, { message: 'the dead idle client removed' })
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })

  it('ends a session left idle in a transaction, without an unhandled error', async () => {
    const client = await pool.connect()
    const pid = await pidOf(client)
    const ended = new Promise((resolve) => client.once('end', resolve))
    const held = await holdTransaction(client)
    await client.query('SELECT 1')
    await ended
    await expect(held.end(true)).rejects.toThrow() // the server ended the session: nothing to commit
    const gone = await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])
    expect(gone.rowCount).toBe(0)
    client.release()
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })

  it('gives up connecting to a server that never answers', async () => {
    const sockets: Socket[] = []
    const silent: Server = createServer((socket) => void sockets.push(socket)) // accepts, never speaks
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as { port: number }).port
    const stuck = createPool(
      loadConfig({ DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/none`, PG_CONNECT_TIMEOUT_MS: '200' }),
      { max: 1, name: 'energy-writer-test', log },
    )
    try {
      await expect(stuck.connect()).rejects.toThrow(/timeout/i)
    } finally {
      await stuck.end()
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => silent.close(resolve))
    }
  })
})
