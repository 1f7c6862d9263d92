// Retention: expired months are detached concurrently and dropped while writers go on inserting, and a
// run interrupted half-way (a detach left pending, a month detached but not dropped) is finished by
// the next one. Every instant is fixed: "now" is mid-June 2021, so March and April 2020 are expired.
import { createTestDatabase, eventually, type TestDatabase } from '@energy-ingest/testenv'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { dropExpired, writeMeterBatch, writeVehicleBatch } from '../../src/index.js'
import { holdTransaction } from '../../src/internal.js'

const env = inject('testenv')
const NOW = new Date('2021-06-15T12:00:00Z')
const RETENTION = 13 // keeps May 2020 onwards

describe('retention', () => {
  let db: TestDatabase
  let pool: pg.Pool
  const clients: pg.Client[] = []

  /** A client of its own (not pooled), closed after the file. */
  async function connect(): Promise<{ client: pg.Client; pid: number }> {
    const client = new pg.Client({ connectionString: db.url })
    client.on('error', () => {}) // terminated by DROP DATABASE … WITH (FORCE) at teardown
    await client.connect()
    clients.push(client)
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
    return { client, pid: rows[0]!.pid }
  }

  /** The backend waits for a heavyweight lock (a relation, or other transactions to end). */
  async function waitingOnLock(pid: number): Promise<boolean> {
    const { rows } = await pool.query<{ waiting: boolean }>(
      `SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE pid = $1`,
      [pid],
    )
    return rows[0]?.waiting === true
  }

  const exists = async (table: string) =>
    (await pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table])).rows[0]!.t !== null

  beforeAll(async () => {
    db = await createTestDatabase(env)
    pool = new pg.Pool({ connectionString: db.url, max: 3 })
    pool.on('error', () => {}) // a client terminated by DROP DATABASE … WITH (FORCE) at teardown
  })

  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => {})
    await pool?.end()
    await db?.drop()
  })

  it('drops expired months while a writer keeps inserting into the same table', async () => {
    const setup = await pool.connect()
    try {
      await writeMeterBatch(
        setup,
        ['2020-03-10', '2020-04-30', '2020-05-01', '2021-06-01'].map((day, i) => ({
          meterId: `RET-${i}`,
          timestamp: `${day}T00:30:00.000Z`,
          kwhConsumedAc: 1,
          voltage: 230,
        })),
      )
    } finally {
      setup.release()
    }

    // A write transaction in flight on meter_history while retention starts.
    const holder = await connect()
    const held = await holdTransaction(holder.client)
    await holder.client.query(
      `INSERT INTO meter_history (meter_id, ts, kwh_consumed_ac, voltage) VALUES ('HOLD', '2021-06-10', 1, 230)`,
    )
    const maintenance = await connect()
    const retention = dropExpired(maintenance.client, { retentionMonths: RETENTION, now: NOW })
    retention.catch(() => {}) // awaited below; a failure must not go unhandled while the probe runs
    await eventually(() => waitingOnLock(maintenance.pid), {
      message: 'retention waiting for the write transaction in flight',
    })

    // A new writer must not queue behind retention.
    const probe = await connect()
    let probeDone = false
    const insert = probe.client
      .query(
        `INSERT INTO meter_history (meter_id, ts, kwh_consumed_ac, voltage) VALUES ('PROBE', '2021-06-11', 1, 230)`,
      )
      .then(() => {
        probeDone = true
      })
    insert.catch(() => {})
    const outcome = await eventually(
      async () => (probeDone ? 'inserted' : (await waitingOnLock(probe.pid)) ? 'blocked' : false),
      { message: 'the probe insert either done or waiting' },
    )
    await held.end(true)
    await insert
    expect(outcome).toBe('inserted')

    const dropped = await retention
    expect(dropped.sort()).toEqual([
      'meter_history_2020_03',
      'meter_history_2020_04',
      'meter_hourly_2020_03',
      'meter_hourly_2020_04',
    ])
    for (const name of dropped) expect(await exists(name)).toBe(false)
    expect(await exists('meter_history_2020_05')).toBe(true)
    const left = await pool.query<{ meter_id: string }>(
      `SELECT meter_id FROM meter_history WHERE ts < '2021-06-15' ORDER BY 1`,
    )
    expect(left.rows.map((r) => r.meter_id)).toEqual(['HOLD', 'PROBE', 'RET-2', 'RET-3'])
    const fleet = await pool.query(`SELECT count(*)::int AS n FROM meter_fleet_minutely WHERE minute < $1`, [
      '2020-05-01T00:00:00Z',
    ])
    expect(fleet.rows[0]).toEqual({ n: 0 })
    const fleetHours = await pool.query(`SELECT count(*)::int AS n FROM meter_fleet_hourly WHERE hour < $1`, [
      '2020-05-01T00:00:00Z',
    ])
    expect(fleetHours.rows[0]).toEqual({ n: 0 })
  })

  it('finishes a detach left pending and drops a month detached but not dropped', async () => {
    const setup = await pool.connect()
    try {
      await writeVehicleBatch(
        setup,
        ['2020-01-15', '2020-02-15', '2020-06-15'].map((day, i) => ({
          vehicleId: `RET-V${i}`,
          timestamp: `${day}T00:30:00.000Z`,
          soc: 50,
          kwhDeliveredDc: 1,
          batteryTemp: 20,
        })),
      )
    } finally {
      setup.release()
    }
    // A run that stopped between detaching February and dropping it.
    await pool.query('ALTER TABLE vehicle_history DETACH PARTITION vehicle_history_2020_02')

    // A run cancelled while DETACH … CONCURRENTLY waited for a reader: January is left "detach pending".
    const reader = await connect()
    const reading = await holdTransaction(reader.client)
    await reader.client.query('SELECT count(*) FROM vehicle_history')
    const detacher = await connect()
    const detach = detacher.client.query(
      'ALTER TABLE vehicle_history DETACH PARTITION vehicle_history_2020_01 CONCURRENTLY',
    )
    detach.catch(() => {})
    await eventually(() => waitingOnLock(detacher.pid), { message: 'the detach waiting for the reader' })
    await pool.query('SELECT pg_cancel_backend($1)', [detacher.pid])
    await expect(detach).rejects.toThrow(/cancel/)
    await reading.end(false)
    const pending = await pool.query<{ pending: boolean }>(
      `SELECT inhdetachpending AS pending FROM pg_inherits WHERE inhrelid = 'vehicle_history_2020_01'::regclass`,
    )
    expect(pending.rows).toEqual([{ pending: true }])

    // Two maintenance runs at once (two writers): one does the work, the other skips.
    const [a, b] = await Promise.all([
      (async () => {
        const c = await pool.connect()
        try {
          return await dropExpired(c, { retentionMonths: RETENTION, now: NOW })
        } finally {
          c.release()
        }
      })(),
      (async () => {
        const c = await pool.connect()
        try {
          return await dropExpired(c, { retentionMonths: RETENTION, now: NOW })
        } finally {
          c.release()
        }
      })(),
    ])
    const all = [...a, ...b].sort()
    expect(all).toEqual([
      'vehicle_history_2020_01',
      'vehicle_history_2020_02',
      'vehicle_hourly_2020_01',
      'vehicle_hourly_2020_02',
    ])
    for (const name of all) expect(await exists(name)).toBe(false)
    expect(await exists('vehicle_history_2020_06')).toBe(true)

    // Nothing left to do on the next run.
    const again = await pool.connect()
    try {
      expect(await dropExpired(again, { retentionMonths: RETENTION, now: NOW })).toEqual([])
    } finally {
      again.release()
    }
  })
})
