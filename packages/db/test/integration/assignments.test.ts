// The rules that turn the assignments a fleet sends into each vehicle's timeline (README, "Assignments"),
// one test per rule, through upsertAssignments on a real database.
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestDatabase, uniqueName, withDatabase, type TestDatabase } from '@energy-ingest/testenv'
import {
  MIGRATIONS_DIR,
  migrate,
  upsertAssignments,
  withTransaction,
  type AssignmentRow,
} from '../../src/index.js'

const env = inject('testenv')

let db: TestDatabase
let pool: pg.Pool

beforeAll(async () => {
  db = await createTestDatabase(env)
  pool = new pg.Pool({ connectionString: db.url, max: 2 })
})

afterAll(async () => {
  await pool?.end()
  await db?.drop()
})

const day = (d: number) => new Date(Date.UTC(2026, 2, d)).toISOString()

/** Each argument is one message: its rows applied in one transaction, as the writer does. */
async function send(...messages: AssignmentRow[][]): Promise<void> {
  const client = await pool.connect()
  try {
    for (const rows of messages) await withTransaction(client, () => upsertAssignments(client, rows))
  } finally {
    client.release()
  }
}

/** The vehicle's timeline: `meter from..to` per interval, `…` for open. */
async function timeline(vehicleId: string): Promise<string[]> {
  const { rows } = await pool.query<{ meter_id: string; valid_from: Date; valid_to: Date | null }>(
    'SELECT meter_id, valid_from, valid_to FROM vehicle_meter_assignments WHERE vehicle_id = $1 ORDER BY valid_from',
    [vehicleId],
  )
  const d = (t: Date) => String(t.getUTCDate())
  return rows.map((r) => `${r.meter_id} ${d(r.valid_from)}..${r.valid_to === null ? '…' : d(r.valid_to)}`)
}

const open = (vehicleId: string, meterId: string, from: number): AssignmentRow => ({
  vehicleId,
  meterId,
  validFrom: day(from),
})
const bounded = (vehicleId: string, meterId: string, from: number, to: number): AssignmentRow => ({
  vehicleId,
  meterId,
  validFrom: day(from),
  validTo: day(to),
})

describe('assignment rules', () => {
  it('an open assignment lasts until the next open one begins, whatever order they arrive in', async () => {
    await send([open('A1', 'M1', 1)], [open('A1', 'M2', 10)])
    await send([open('A2', 'M2', 10)], [open('A2', 'M1', 1)])
    await send([open('A3', 'M2', 10), open('A3', 'M1', 1), open('A3', 'M3', 5)])
    expect(await timeline('A1')).toEqual(['M1 1..10', 'M2 10..…'])
    expect(await timeline('A2')).toEqual(['M1 1..10', 'M2 10..…'])
    expect(await timeline('A3')).toEqual(['M1 1..5', 'M3 5..10', 'M2 10..…'])
  })

  it('a short assignment to another meter interrupts an open one, which resumes at its end', async () => {
    await send([open('B1', 'M1', 1)], [bounded('B1', 'M2', 5, 7)])
    expect(await timeline('B1')).toEqual(['M1 1..5', 'M2 5..7', 'M1 7..…'])
    // Ending the open one is what a new open assignment says.
    await send([open('B2', 'M1', 1)], [open('B2', 'M2', 5)])
    expect(await timeline('B2')).toEqual(['M1 1..5', 'M2 5..…'])
  })

  it('where intervals overlap, the one sent later wins, exactly on the overlap', async () => {
    // Trimmed at either end, split around one inside, replaced when covered.
    await send([bounded('C1', 'M1', 1, 10)], [bounded('C1', 'M2', 8, 12)])
    expect(await timeline('C1')).toEqual(['M1 1..8', 'M2 8..12'])
    await send([bounded('C2', 'M1', 5, 10)], [bounded('C2', 'M2', 1, 7)])
    expect(await timeline('C2')).toEqual(['M2 1..7', 'M1 7..10'])
    await send([bounded('C3', 'M1', 1, 10)], [bounded('C3', 'M2', 3, 4)])
    expect(await timeline('C3')).toEqual(['M1 1..3', 'M2 3..4', 'M1 4..10'])
    await send([bounded('C4', 'M1', 3, 4)], [bounded('C4', 'M2', 1, 10)])
    expect(await timeline('C4')).toEqual(['M2 1..10'])
    // The same in one message: the later row wins.
    await send([bounded('C5', 'M1', 1, 10), bounded('C5', 'M2', 3, 4)])
    expect(await timeline('C5')).toEqual(['M1 1..3', 'M2 3..4', 'M1 4..10'])
    // An open assignment sent after a short one covers it up to the next open one.
    await send([bounded('C6', 'M2', 5, 7)], [open('C6', 'M1', 1)])
    expect(await timeline('C6')).toEqual(['M1 1..…'])
  })

  it('the same vehicle and validFrom again corrects that assignment: ends, reopens or moves it', async () => {
    // M2 becomes a short assignment: the open M1 resumes after it.
    await send([open('D1', 'M1', 1)], [open('D1', 'M2', 10)], [bounded('D1', 'M2', 10, 12)])
    expect(await timeline('D1')).toEqual(['M1 1..10', 'M2 10..12', 'M1 12..…'])
    await send([open('D1', 'M2', 10)])
    expect(await timeline('D1')).toEqual(['M1 1..10', 'M2 10..…'])
    await send([open('D1', 'M3', 1)])
    expect(await timeline('D1')).toEqual(['M3 1..10', 'M2 10..…'])
    // A shorter correction does not leave the rest of the old interval behind.
    await send([bounded('D2', 'M1', 1, 10)], [bounded('D2', 'M1', 1, 4)])
    expect(await timeline('D2')).toEqual(['M1 1..4'])
    // Ending an open assignment: the vehicle has no meter after it.
    await send([open('D3', 'M1', 1)], [bounded('D3', 'M1', 1, 4)])
    expect(await timeline('D3')).toEqual(['M1 1..4'])
  })

  it('joins neighbouring intervals of one meter', async () => {
    await send([bounded('E1', 'M1', 1, 5)], [bounded('E1', 'M1', 5, 9)], [open('E1', 'M1', 9)])
    expect(await timeline('E1')).toEqual(['M1 1..…'])
  })

  it('gives the same timeline when a redelivery applies the last messages again', async () => {
    const messages = [
      [open('F1', 'M1', 1)],
      [open('F1', 'M5', 2)],
      [bounded('F1', 'M2', 3, 6), open('F1', 'M3', 12)],
      [bounded('F1', 'M4', 5, 8)],
    ]
    await send(...messages)
    const first = await timeline('F1')
    expect(first).toEqual(['M1 1..2', 'M5 2..3', 'M2 3..5', 'M4 5..8', 'M5 8..12', 'M3 12..…'])
    for (let i = 0; i < messages.length; i++) {
      await send(...messages.slice(i))
      expect(await timeline('F1'), `redelivered from message ${i}`).toEqual(first)
    }
  })

  it('keeps instants to the microsecond', async () => {
    const us = (n: number) => `2026-03-05T00:00:00.00000${n}Z`
    await send(
      [{ vehicleId: 'K1', meterId: 'M1', validFrom: us(1) }],
      [{ vehicleId: 'K1', meterId: 'M2', validFrom: us(2), validTo: us(3) }],
    )
    const { rows } = await pool.query<{ m: string; f: string; t: string | null }>(
      `SELECT meter_id AS m, to_char(valid_from AT TIME ZONE 'UTC', 'SS.US') AS f,
              to_char(valid_to AT TIME ZONE 'UTC', 'SS.US') AS t
         FROM vehicle_meter_assignments WHERE vehicle_id = 'K1' ORDER BY valid_from`,
    )
    expect(rows).toEqual([
      { m: 'M1', f: '00.000001', t: '00.000002' },
      { m: 'M2', f: '00.000002', t: '00.000003' },
      { m: 'M1', f: '00.000003', t: null },
    ])
  })

  it('refuses overlapping intervals written to the timeline by anything else', async () => {
    await send([open('G1', 'M1', 1)])
    await expect(
      pool.query(
        `INSERT INTO vehicle_meter_assignments (vehicle_id, meter_id, valid_from, valid_to) VALUES ('G1', 'M2', $1, $2)`,
        [day(3), day(4)],
      ),
    ).rejects.toMatchObject({ code: '23P01', constraint: 'vehicle_meter_assignments_no_overlap' })
  })

  it('refuses an interval that ends before it begins, and stores nothing of that message', async () => {
    await expect(send([open('H1', 'M1', 1), { ...bounded('H1', 'M2', 5, 5) }])).rejects.toMatchObject({
      code: '23514',
    })
    expect(await timeline('H1')).toEqual([])
  })
})

describe('migration 0012 on assignments stored before it', () => {
  it('cuts each stored interval where the next one begins, and keeps them as sent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'))
    const name = uniqueName('assign')
    const admin = new pg.Client({ connectionString: env.primaryUrl })
    await admin.connect()
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true })
      for (const f of ['0012_assignment_ranges.sql']) rmSync(join(dir, f))
      await admin.query(`CREATE DATABASE ${name}`)
      const url = withDatabase(env.primaryUrl, name)
      await migrate({ connectionString: url, dir, ensurePartitions: false })
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        await client.query(
          `INSERT INTO vehicle_meter_assignments (vehicle_id, meter_id, valid_from, valid_to)
           VALUES ('L1', 'M1', $1, $3), ('L1', 'M2', $2, $4), ('L1', 'M3', $4, NULL)`,
          [day(1), day(5), day(10), day(12)],
        )
        await migrate({ connectionString: url, ensurePartitions: false })
        const { rows } = await client.query(
          `SELECT meter_id, valid_from, valid_to FROM vehicle_meter_assignments ORDER BY valid_from`,
        )
        expect(rows).toEqual([
          { meter_id: 'M1', valid_from: new Date(day(1)), valid_to: new Date(day(5)) },
          { meter_id: 'M2', valid_from: new Date(day(5)), valid_to: new Date(day(12)) },
          { meter_id: 'M3', valid_from: new Date(day(12)), valid_to: null },
        ])
        // Applying a new assignment recomputes the timeline from the carried-over rows unchanged.
        await withTransaction(client, () => upsertAssignments(client, [bounded('L1', 'M4', 20, 21)]))
        const after = await client.query(`SELECT meter_id FROM vehicle_meter_assignments ORDER BY valid_from`)
        expect(after.rows.map((r) => r.meter_id)).toEqual(['M1', 'M2', 'M3', 'M4', 'M3'])
      } finally {
        await client.end()
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
