import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase, uniqueName, withDatabase, type TestDatabase } from '@energy-ingest/testenv'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  MIGRATIONS_DIR,
  PartitionManager,
  dropExpired,
  listPartitions,
  loadMigrations,
  migrate,
  monthStart,
  partitionFor,
  writeMeterBatch,
  writeVehicleBatch,
} from '../../src/index.js'

const env = inject('testenv')

async function withEmptyDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = uniqueName('migrate')
  const admin = new pg.Client({ connectionString: env.primaryUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  try {
    return await fn(withDatabase(env.primaryUrl, name))
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
}

describe('migrate', () => {
  it('applies each migration once when two services start at the same time', async () => {
    await withEmptyDatabase(async (url) => {
      const results = await Promise.all([
        migrate({ connectionString: url }),
        migrate({ connectionString: url }),
      ])
      const applied = results.flatMap((r) => r.applied)
      const all = (await loadMigrations()).map((m) => `${m.version}_${m.name}`)
      expect(all.slice(0, 4)).toEqual(['0001_history', '0002_live', '0003_rollups', '0004_assignments'])
      expect(applied).toEqual(all)
      const again = await migrate({ connectionString: url })
      expect(again.applied).toEqual([])
    })
  })

  it('refuses a migration that was edited after it was applied, and rolls back a failing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'))
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true })
      await withEmptyDatabase(async (url) => {
        await migrate({ connectionString: url, dir })
        const file = join(dir, '0002_live.sql')
        writeFileSync(file, `${readFileSync(file, 'utf8')}\n-- edited\n`)
        await expect(migrate({ connectionString: url, dir })).rejects.toThrow(/0002_live was edited/)
        cpSync(join(MIGRATIONS_DIR, '0002_live.sql'), file)
        writeFileSync(
          join(dir, '9999_broken.sql'),
          'CREATE TABLE broken_one (x int);\nSELECT no_such_function();\n',
        )
        await expect(migrate({ connectionString: url, dir })).rejects.toThrow(/9999_broken failed/)
        const client = new pg.Client({ connectionString: url })
        await client.connect()
        try {
          const { rows } = await client.query(`SELECT to_regclass('broken_one') AS t`)
          expect(rows[0]).toEqual({ t: null })
        } finally {
          await client.end()
        }
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('partitions', () => {
  let db: TestDatabase
  let pool: pg.Pool

  beforeAll(async () => {
    db = await createTestDatabase(env)
    pool = new pg.Pool({ connectionString: db.url, max: 2 })
    pool.on('error', () => {}) // a client terminated by DROP DATABASE … WITH (FORCE) at teardown
  })

  afterAll(async () => {
    await pool?.end()
    await db?.drop()
  })

  let client: pg.PoolClient | undefined
  afterEach(() => {
    client?.release()
    client = undefined
  })

  it('has no DEFAULT partition on any partitioned table', async () => {
    const { rows } = await pool.query<{ relname: string; partdefid: number }>(
      `SELECT c.relname, p.partdefid::int AS partdefid FROM pg_partitioned_table p
       JOIN pg_class c ON c.oid = p.partrelid ORDER BY 1`,
    )
    expect(rows.map((r) => r.relname)).toEqual([
      'meter_history',
      'meter_hourly',
      'vehicle_history',
      'vehicle_hourly',
    ])
    expect(rows.every((r) => r.partdefid === 0)).toBe(true)
  })

  it('has the current and next months after migrating', async () => {
    // A pinned "now", years from any real date: the months exist because migrate made them.
    const now = new Date('2033-12-31T23:59:30Z')
    await migrate({ connectionString: db.url, now })
    const names = (await listPartitions(pool, 'meter_history')).map((p) => p.name)
    expect(names).toContain('meter_history_2033_12')
    expect(names).toContain('meter_history_2034_01')
    expect(names).toContain(partitionFor('meter_history', monthStart(now, 1)).name)
  })

  it('creates a missing month on demand for a backfilled reading, in history and hourly', async () => {
    client = await pool.connect()
    const ts = monthStart(new Date(), -7)
    const month = partitionFor('vehicle_history', ts)
    expect((await listPartitions(pool, 'vehicle_history')).map((p) => p.name)).not.toContain(month.name)
    const result = await writeVehicleBatch(client, [
      {
        vehicleId: 'BACKFILL-1',
        timestamp: new Date(ts.getTime() + 3_600_000).toISOString(),
        soc: 50,
        kwhDeliveredDc: 1,
        batteryTemp: 20,
      },
    ])
    expect(result.partitionsCreated).toEqual([month.name, partitionFor('vehicle_hourly', ts).name])
    const stored = await pool.query(`SELECT count(*)::int AS n FROM ${month.name}`)
    expect(stored.rows[0]).toEqual({ n: 1 })
    const hourly = await pool.query(`SELECT readings FROM vehicle_hourly WHERE vehicle_id = 'BACKFILL-1'`)
    expect(hourly.rows).toEqual([{ readings: 1 }])
  })

  it('drops the months past the retention, keeps the rest, and the manager recreates current and next', async () => {
    client = await pool.connect()
    // Pinned: months two and three after it exist in no database the suite makes, whatever the date.
    const now = new Date('2031-07-15T12:00:00Z')
    const old = monthStart(now, -15)
    await writeMeterBatch(client, [
      {
        meterId: 'OLD-1',
        timestamp: new Date(old.getTime() + 60_000).toISOString(),
        kwhConsumedAc: 1,
        voltage: 230,
      },
      {
        meterId: 'KEEP-1',
        timestamp: new Date(monthStart(now, -13).getTime() + 60_000).toISOString(),
        kwhConsumedAc: 1,
        voltage: 230,
      },
    ])
    const dropped = await dropExpired(client, { retentionMonths: 13, now })
    expect(dropped).toContain(partitionFor('meter_history', old).name)
    expect(dropped).toContain(partitionFor('meter_hourly', old).name)
    expect(dropped).not.toContain(partitionFor('meter_history', monthStart(now, -13)).name)
    const left = await pool.query(`SELECT meter_id FROM meter_history WHERE meter_id IN ('OLD-1', 'KEEP-1')`)
    expect(left.rows).toEqual([{ meter_id: 'KEEP-1' }])
    const fleet = await pool.query(`SELECT count(*)::int AS n FROM meter_fleet_minutely WHERE minute < $1`, [
      monthStart(now, -13),
    ])
    expect(fleet.rows[0]).toEqual({ n: 0 })

    // Months two and three ahead do not exist yet; a manager ticking "next month" creates them.
    const inTwoMonths = monthStart(now, 2)
    const manager = new PartitionManager({
      connect: () => pool.connect(),
      retentionMonths: 13,
      now: () => inTwoMonths,
    })
    const { created } = await manager.tick()
    expect(created).toEqual(
      expect.arrayContaining([
        partitionFor('meter_history', inTwoMonths).name,
        partitionFor('vehicle_hourly', monthStart(now, 3)).name,
      ]),
    )
    await manager.stop()
  })
})
