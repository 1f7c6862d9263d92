// `--pg-statements`: a PostgreSQL pair started with the extra settings loads pg_stat_statements, and
// the bench's table ranks what ran since the reset by execution time, per stored reading.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPostgresPair, type PostgresPair } from '@energy-ingest/localstack'
import {
  PG_STATEMENTS_SETTINGS,
  resetStatements,
  statementsTable,
  topStatements,
} from '../../src/pg-statements.js'

describe('PostgreSQL statement profile', () => {
  let pair: PostgresPair
  let db: pg.Client

  beforeAll(async () => {
    pair = await startPostgresPair({ fast: true, extraSettings: PG_STATEMENTS_SETTINGS })
    db = new pg.Client({ connectionString: pair.primaryUrl })
    await db.connect()
    await db.query('CREATE EXTENSION pg_stat_statements')
  })

  afterAll(async () => {
    await db?.end()
    await pair?.stop()
  })

  it('loads the extension on both servers', async () => {
    const replica = new pg.Client({ connectionString: pair.replicaUrl })
    await replica.connect()
    try {
      for (const c of [db, replica]) {
        const { rows } = await c.query<{ s: string }>(
          "SELECT current_setting('shared_preload_libraries') AS s",
        )
        expect(rows[0]?.s).toBe('pg_stat_statements')
      }
    } finally {
      await replica.end()
    }
  })

  it('ranks the statements run since the reset, with their share and cost per reading', async () => {
    await db.query('CREATE TABLE t (id int PRIMARY KEY, v text)')
    await resetStatements(db)
    await db.query(`INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 20000) g`)
    for (let i = 0; i < 5; i++) await db.query('SELECT v FROM t WHERE id = $1', [i + 1])

    const top = await topStatements(db, 2, 20_000)
    expect(top).toHaveLength(2)
    expect(top[0]!.query).toMatch(
      /^INSERT INTO t SELECT g, md5\(g::text\) FROM generate_series\(\$1, \$2\) g$/,
    )
    expect(top[0]!.calls).toBe(1)
    expect(top[0]!.rowsPerCall).toBe(20_000)
    expect(top[0]!.totalMs).toBeGreaterThanOrEqual(top[1]!.totalMs)
    expect(top[0]!.share).toBeGreaterThan(0)
    expect(top[0]!.share).toBeLessThanOrEqual(100)
    expect(top[0]!.usPerReading).toBeCloseTo((top[0]!.totalMs * 1000) / 20_000, 1)
    // Nothing from before the reset.
    expect(top.some((s) => s.query.startsWith('CREATE TABLE'))).toBe(false)

    const table = statementsTable('statements', top)
    expect(table.rows).toHaveLength(2)
    expect(table.rows[0]![2]).toBe(1)
  })
})
