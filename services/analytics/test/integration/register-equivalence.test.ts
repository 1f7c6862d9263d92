// A register meter and an interval meter reporting the same energy (same timestamps, same kWh per
// interval) get the same answers from every analytics route: performance, meter summary, fleet summary,
// efficiency alerts, meter series and live. Two databases hold the same fleet (meter M-EQ charging
// vehicle EV-EQ); in one the meter sends its cumulative register (with a reset and a placeholder 0, in
// shuffled batches), in the other the interval energies that register implies, built by hand.
import {
  closeHours,
  setRollupMode,
  upsertAssignments,
  writeMeterBatch,
  writeVehicleBatch,
} from '@energy-ingest/db'
import type { MeterRow, VehicleRow } from '@energy-ingest/db'
import { createTestDatabase, waitForReplica, type TestDatabase } from '@energy-ingest/testenv'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { buildApp, type App } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { HOUR, prng } from './fixtures.js'

const env = inject('testenv')
const KEY = 'test-analytics-key'
const NOW = Date.parse('2026-05-06T12:00:30Z')
const START = NOW - 30 * HOUR - 30_000
const STEP = 7 * 60_000
const METER = 'M-EQ'
const VEHICLE = 'EV-EQ'
const iso = (ms: number) => new Date(ms).toISOString()
const kwh = (thousandths: number) => (thousandths / 1000).toFixed(3)

interface Fleet {
  register: MeterRow[]
  interval: MeterRow[]
  vehicle: VehicleRow[]
  /** Sum of the interval energies, thousandths of a kWh. */
  totalThousandths: number
}

/**
 * One reading every 7 minutes over 30 h. The register rises by a random 0–3 kWh; reading 100 is a
 * reset (meter replaced, register restarts at 0.75 kWh: its energy is 0.75), reading 180 a placeholder
 * 0 (energy 0; the next reading counts from the value before it). The vehicle stores 80 % of it as DC.
 */
function buildFleet(): Fleet {
  const rand = prng(20260506)
  const register: MeterRow[] = []
  const interval: MeterRow[] = []
  const vehicle: VehicleRow[] = []
  let reg = 5_000_123
  let total = 0
  for (let i = 0, t = START; t < NOW; i++, t += STEP) {
    const timestamp = iso(t)
    const voltage = (2250 + Math.floor(rand() * 100)) / 10
    let energy = 0
    let sent = reg
    if (i === 100) {
      reg = 750
      energy = 750
      sent = reg
    } else if (i === 180) {
      sent = 0 // placeholder: the register keeps its value
    } else if (i > 0) {
      energy = Math.floor(rand() * 3000)
      reg += energy
      sent = reg
    }
    total += energy
    register.push({ meterId: METER, timestamp, energyRegisterKwh: kwh(sent), voltage })
    interval.push({ meterId: METER, timestamp, kwhConsumedAc: kwh(energy), voltage })
    vehicle.push({
      vehicleId: VEHICLE,
      timestamp,
      soc: 50,
      kwhDeliveredDc: kwh(Math.floor(energy * 0.8)),
      batteryTemp: 30,
    })
  }
  return { register, interval, vehicle, totalThousandths: total }
}

/** Same storage path and rollup states for both databases: closed, materialised and open hours. */
async function seed(url: string, meters: MeterRow[], vehicles: VehicleRow[], shuffle: boolean) {
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  const client = await pool.connect()
  try {
    const closedBefore = new Date(Math.floor((START + 6 * HOUR) / HOUR) * HOUR)
    for (const kind of ['meter', 'vehicle'] as const)
      await setRollupMode(client, kind, { perBatch: false, closedBefore })
    await client.query('BEGIN')
    await upsertAssignments(client, [
      { vehicleId: VEHICLE, meterId: METER, validFrom: iso(START - HOUR), validTo: null },
    ])
    await client.query('COMMIT')
    const rows = [...meters]
    if (shuffle) {
      const rand = prng(7)
      for (let i = rows.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1))
        ;[rows[i], rows[j]] = [rows[j]!, rows[i]!]
      }
    }
    for (let i = 0; i < rows.length; i += 37) await writeMeterBatch(client, rows.slice(i, i + 37))
    for (let i = 0; i < vehicles.length; i += 50) await writeVehicleBatch(client, vehicles.slice(i, i + 50))
    const upTo = new Date(Math.floor((NOW - 4 * HOUR) / HOUR) * HOUR)
    for (const kind of ['meter', 'vehicle'] as const) await closeHours(client, kind, { upTo, maxHours: 1000 })
  } finally {
    client.release()
    await pool.end()
  }
}

/** A JSON answer without the snapshot instants (`asOf`), which differ between two databases. */
function withoutAsOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutAsOf)
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== 'asOf')
        .map(([k, v]) => [k, withoutAsOf(v)]),
    )
  return value
}

describe('a register meter answers like an interval meter reporting the same energy', () => {
  const fleet = buildFleet()
  const dbs: TestDatabase[] = []
  const apps: App[] = []

  beforeAll(async () => {
    for (const meters of [fleet.register, fleet.interval]) {
      const db = await createTestDatabase(env)
      dbs.push(db)
      await seed(db.url, meters, fleet.vehicle, meters === fleet.register)
    }
    await waitForReplica(env.primaryUrl, env.replicaUrl)
    for (const db of dbs)
      apps.push(
        await buildApp(loadConfig({ ANALYTICS_DATABASE_URL: db.replicaUrl, ANALYTICS_API_KEYS: KEY }), {
          logger: false,
          now: () => NOW,
        }),
      )
  }, 180_000)

  afterAll(async () => {
    for (const app of apps) await app.close()
    for (const db of dbs) await db.drop()
  })

  async function both(url: string) {
    const answers = []
    for (const app of apps) {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${KEY}` } })
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200)
      answers.push(res.json() as Record<string, unknown>)
    }
    return { register: answers[0]!, interval: answers[1]! }
  }

  const window = `from=${iso(START)}&to=${iso(NOW)}`

  it('performance', async () => {
    for (const url of [
      `/v1/analytics/performance/${VEHICLE}`,
      `/v1/analytics/performance/${VEHICLE}?${window}`,
    ]) {
      const { register, interval } = await both(url)
      expect(register.totalAcConsumed).toBeGreaterThan(0)
      expect(withoutAsOf(register)).toEqual(withoutAsOf(interval))
    }
  })

  it('meter summary (flag counts apart)', async () => {
    const { register, interval } = await both(`/v1/analytics/meters/${METER}?${window}`)
    expect(register.totalAcConsumed).toBe(fleet.totalThousandths / 1000)
    expect(register.energyFlags).toEqual({ resets: 1, placeholders: 1, suspects: 0 })
    expect(interval.energyFlags).toEqual({ resets: 0, placeholders: 0, suspects: 0 })
    const strip = (b: Record<string, unknown>) => withoutAsOf({ ...b, energyFlags: null })
    expect(strip(register)).toEqual(strip(interval))
  })

  it('fleet summary', async () => {
    for (const url of ['/v1/analytics/fleet/summary', `/v1/analytics/fleet/summary?${window}`]) {
      const { register, interval } = await both(url)
      expect(withoutAsOf(register)).toEqual(withoutAsOf(interval))
    }
  })

  it('efficiency alerts', async () => {
    const { register, interval } = await both('/v1/analytics/efficiency/alerts?below=0.9')
    expect((register.items as { vehicleId: string }[]).map((i) => i.vehicleId)).toEqual([VEHICLE])
    expect(withoutAsOf(register)).toEqual(withoutAsOf(interval))
  })

  it('meter series and live', async () => {
    for (const bucket of ['15m', 'hour', 'day']) {
      const { register, interval } = await both(
        `/v1/analytics/meters/${METER}/series?bucket=${bucket}&${window}`,
      )
      expect(withoutAsOf(register)).toEqual(withoutAsOf(interval))
    }
    const { register, interval } = await both(`/v1/meters/${METER}/live`)
    expect(withoutAsOf(register)).toEqual(withoutAsOf(interval))
  })
})
