// Test data and helpers shared by the analytics integration tests: a seeded random fleet written
// through the real storage path of packages/db (the writer's), and raw-history reference queries.
import pg from 'pg'
import {
  closeHours,
  setRollupMode,
  upsertAssignments,
  withTransaction,
  writeMeterBatch,
  writeVehicleBatch,
} from '@energy-ingest/db'
import type { MeterRow, VehicleRow } from '@energy-ingest/db'
import { prng, waitForReplica, type EnvironmentInfo, type TestDatabase } from '@energy-ingest/testenv'

export { prng }

export const HOUR = 3_600_000
export const DAY = 24 * HOUR

export interface Fleet {
  meters: string[]
  vehicles: string[]
  /** Vehicle -> meter assignments as written. */
  assignments: { vehicleId: string; meterId: string; validFrom: string; validTo: string | null }[]
  start: number
  end: number
}

const iso = (ms: number) => new Date(ms).toISOString()
const dec = (rand: () => number, max: number, digits: number) => Number((rand() * max).toFixed(digits))

function shuffle<T>(rand: () => number, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[xs[i], xs[j]] = [xs[j]!, xs[i]!]
  }
  return xs
}

async function writeInBatches<R>(
  client: pg.PoolClient,
  rows: R[],
  rand: () => number,
  write: (c: pg.PoolClient, batch: R[]) => Promise<unknown>,
) {
  for (let i = 0; i < rows.length;) {
    const size = 50 + Math.floor(rand() * 400)
    await write(client, rows.slice(i, i + size))
    i += size
  }
}

/**
 * Writes a random fleet over [now - 60 d, now), `now` given by the caller (a pinned instant): readings at random minutes (so hours hold 0..n rows),
 * shuffled (out of order), ~5 % sent twice (redelivery), through writeMeterBatch/writeVehicleBatch.
 * Rollups: hours before now - 40 d are folded per batch (late rows), [now - 40 d, now - 10 d) are
 * materialised by closeHours, and everything after stays open (history only), so windows cross both
 * kinds of boundary. Then more late rows arrive for closed hours.
 */
export async function seedFleet(
  primaryUrl: string,
  seed: number,
  nowMs: number,
  /** Readings attempted per device (default 900) over the 60 days: denser data for per-bucket tests. */
  { readings = 900 }: { readings?: number } = {},
): Promise<Fleet> {
  const rand = prng(seed)
  const end = Math.floor(nowMs / 60_000) * 60_000
  const start = end - 60 * DAY
  const meters = ['V1', 'M-a', 'M-b', 'M-c', 'M.d:5']
  const vehicles = ['V1', 'EV-1', 'EV-2', 'EV-3', 'EV-unassigned']
  const meterRows: MeterRow[] = []
  const vehicleRows: VehicleRow[] = []
  const minute = () => start + Math.floor(rand() * ((end - start) / 60_000)) * 60_000
  for (const meterId of meters) {
    const used = new Set<number>()
    for (let i = 0; i < readings; i++) {
      const t = minute()
      if (used.has(t)) continue
      used.add(t)
      meterRows.push({
        meterId,
        timestamp: iso(t),
        kwhConsumedAc: dec(rand, 3, 4),
        voltage: 220 + dec(rand, 20, 2),
      })
    }
  }
  for (const vehicleId of vehicles) {
    const used = new Set<number>()
    for (let i = 0; i < readings; i++) {
      const t = minute()
      if (used.has(t)) continue
      used.add(t)
      vehicleRows.push({
        vehicleId,
        timestamp: iso(t),
        soc: dec(rand, 100, 1),
        kwhDeliveredDc: dec(rand, 2.7, 4),
        batteryTemp: -10 + dec(rand, 55, 2),
      })
    }
  }
  const assignments = [
    {
      vehicleId: 'EV-1',
      meterId: 'M-a',
      validFrom: iso(start - DAY),
      validTo: iso(start + 25 * DAY + 17 * 60_000),
    },
    { vehicleId: 'EV-1', meterId: 'M-b', validFrom: iso(start + 25 * DAY + 17 * 60_000), validTo: null },
    {
      vehicleId: 'EV-2',
      meterId: 'M-c',
      validFrom: iso(start + 3 * DAY + 31 * 60_000),
      validTo: iso(end - 5 * DAY - 7 * 60_000),
    },
    { vehicleId: 'EV-3', meterId: 'M-a', validFrom: iso(start + 10 * DAY), validTo: null },
    { vehicleId: 'EV-3', meterId: 'M.d:5', validFrom: iso(start + 50 * DAY + 45 * 60_000), validTo: null },
  ]

  const pool = new pg.Pool({ connectionString: primaryUrl, max: 1 })
  const client = await pool.connect()
  try {
    const t0 = new Date(Math.floor((end - 40 * DAY) / HOUR) * HOUR)
    const t1 = new Date(Math.floor((end - 10 * DAY) / HOUR) * HOUR)
    for (const kind of ['meter', 'vehicle'] as const)
      await setRollupMode(client, kind, { perBatch: false, closedBefore: t0 })
    await withTransaction(client, () => upsertAssignments(client, assignments))
    const late = (r: { timestamp: string }) => Date.parse(r.timestamp) < t1.getTime() && rand() < 0.1
    const meterLate = meterRows.filter(late)
    const vehicleLate = vehicleRows.filter(late)
    const meterNow = shuffle(
      rand,
      meterRows.filter((r) => !meterLate.includes(r)),
    )
    const vehicleNow = shuffle(
      rand,
      vehicleRows.filter((r) => !vehicleLate.includes(r)),
    )
    const dup = <R>(rows: R[]) => [...rows, ...rows.filter(() => rand() < 0.05)]
    await writeInBatches(client, dup(meterNow), rand, (c, b) => writeMeterBatch(c, b))
    await writeInBatches(client, dup(vehicleNow), rand, (c, b) => writeVehicleBatch(c, b))
    for (const kind of ['meter', 'vehicle'] as const) {
      for (let i = 0; i < 40; i++) {
        const r = await closeHours(client, kind, { upTo: t1, maxHours: 24 * 31 })
        if (r.hoursClosed === 0) break
      }
    }
    await writeInBatches(client, dup(meterLate), rand, (c, b) => writeMeterBatch(c, b))
    await writeInBatches(client, dup(vehicleLate), rand, (c, b) => writeVehicleBatch(c, b))
  } finally {
    client.release()
    await pool.end()
  }
  return { meters, vehicles, assignments, start, end }
}

/** What a writer does on a timer: a heartbeat on the primary, here once, replayed when this resolves. */
export async function beat(env: EnvironmentInfo, db: TestDatabase): Promise<void> {
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  try {
    await client.query('UPDATE writer_heartbeat SET beat_at = now()')
  } finally {
    await client.end()
  }
  await waitForReplica(env.primaryUrl, env.replicaUrl)
}

/** Raw-history aggregates, computed the straightforward way, for comparison. */
export async function rawVehicle(db: pg.Pool, vehicleId: string, from: Date, to: Date) {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n, COALESCE(sum(kwh_delivered_dc), 0)::text AS dc, sum(battery_temp)::text AS tsum,
            min(battery_temp)::text AS tmin, max(battery_temp)::text AS tmax, min(soc)::text AS smin, max(soc)::text AS smax,
            (array_agg(soc ORDER BY ts))[1]::text AS sfirst, (array_agg(soc ORDER BY ts DESC))[1]::text AS slast,
            min(ts) AS first_ts, max(ts) AS last_ts
       FROM vehicle_history WHERE vehicle_id = $1 AND ts >= $2 AND ts < $3`,
    [vehicleId, from, to],
  )
  return rows[0] as Record<string, string | number | Date | null>
}

export async function rawMeter(db: pg.Pool, meterId: string, from: Date, to: Date) {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n, COALESCE(sum(kwh_consumed_ac), 0)::text AS ac, sum(voltage)::text AS vsum,
            min(voltage)::text AS vmin, max(voltage)::text AS vmax, min(ts) AS first_ts, max(ts) AS last_ts
       FROM meter_history WHERE meter_id = $1 AND ts >= $2 AND ts < $3`,
    [meterId, from, to],
  )
  return rows[0] as Record<string, string | number | Date | null>
}

/**
 * AC of a vehicle's meters, each clipped to its assignment interval, and the same-id meter before the
 * vehicle's first assignment.
 */
export async function rawVehicleAc(db: pg.Pool, vehicleId: string, from: Date, to: Date) {
  const { rows } = await db.query(
    `WITH a AS (
       SELECT meter_id, GREATEST(valid_from, $2) AS f, LEAST(COALESCE(valid_to, 'infinity'), $3) AS t
         FROM vehicle_meter_assignments WHERE vehicle_id = $1
       UNION ALL
       SELECT $1, $2, LEAST($3, COALESCE(min(valid_from), 'infinity'))
         FROM vehicle_meter_assignments WHERE vehicle_id = $1
     )
     SELECT count(h.*)::int AS n, COALESCE(sum(h.kwh_consumed_ac), 0)::text AS ac,
            COALESCE(array_agg(DISTINCT a.meter_id) FILTER (WHERE a.f < a.t AND (a.meter_id <> $1 OR EXISTS (SELECT 1 FROM meter_live WHERE meter_id = $1))), '{}') AS meters
       FROM a LEFT JOIN meter_history h ON h.meter_id = a.meter_id AND h.ts >= a.f AND h.ts < a.t`,
    [vehicleId, from, to],
  )
  return rows[0] as { n: number; ac: string; meters: string[] }
}
