// Loads a history of readings straight into PostgreSQL, fast, and leaves every derived table as the
// writer would have: history by raw COPY; the fleet minute rollups from the rows just copied; the
// newest round (and so *_live) through the db package's write path; the hourly rollups by the db
// package's closeHours() from a watermark set before the oldest row. Readings are a pure function of
// (device, round), so a larger size extends the same history further into the past.
import pg from 'pg'
import {
  closeHours,
  ensureMonths,
  setRollupMode,
  upsertAssignments,
  writeMeterBatch,
  writeVehicleBatch,
  type MeterRow,
  type ReadingKind,
  type VehicleRow,
  withTransaction,
} from '@energy-ingest/db'
import { copyMeterRowsRaw, copyVehicleRowsRaw } from '@energy-ingest/db/internal'
import { meterId, vehicleId } from './fleet.js'
import { progress } from './report.js'

const HOUR_MS = 3_600_000

export interface HistoryShape {
  vehicles: number
  meters: number
  /** Seconds between two readings of a device. */
  intervalS: number
  /** The newest round's start; round r starts at newest - r × interval. */
  newestMs: number
  /** Rounds of the largest size to be loaded (fixes the rollup watermark and the assignments). */
  maxRounds: number
}

const hash = (a: number, b: number) => {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x27d4eb2f, 0xc2b2ae35)
  h ^= h >>> 15
  h = Math.imul(h, 0x2c1b3c6d)
  return ((h ^ (h >>> 12)) >>> 0) / 4294967296
}
const r1 = (x: number) => Math.round(x * 10) / 10
const r4 = (x: number) => Math.round(x * 10_000) / 10_000

/**
 * One round of readings. Vehicle d charges from meter d for a third of an 8-hour cycle; DC is AC times
 * the charger's efficiency (85–95 %, 3 % of chargers 70–82 %); SoC and battery temperature follow the
 * cycle; meters without a charging vehicle draw standby power.
 */
export function roundRows(
  shape: HistoryShape,
  round: number,
): { meters: MeterRow[]; vehicles: VehicleRow[] } {
  const { intervalS } = shape
  const startMs = shape.newestMs - round * intervalS * 1000
  const k = Math.floor(startMs / (intervalS * 1000))
  const period = Math.max(3, Math.round((8 * 3600) / intervalS))
  const on = Math.floor(period / 3)
  const meters: MeterRow[] = []
  const vehicles: VehicleRow[] = []
  const acOf = new Map<number, number>()
  for (let d = 0; d < shape.vehicles; d++) {
    const p = (k + d * 37) % period
    const charging = p < on
    const kw = [7.4, 11, 22][d % 3]!
    const eff = hash(d, 1) < 0.03 ? 0.7 + hash(d, 2) * 0.12 : 0.85 + hash(d, 3) * 0.1
    const ac = charging ? r4(((kw * intervalS) / 3600) * (0.97 + hash(d, k) * 0.06)) : 0
    acOf.set(d, ac)
    const cycle = charging ? p / on : 1 - (p - on) / (period - on)
    vehicles.push({
      vehicleId: vehicleId(d),
      timestamp: new Date(startMs + ((d * 7919) % intervalS) * 1000).toISOString(),
      soc: r1(20 + 60 * cycle),
      kwhDeliveredDc: r4(ac * eff),
      batteryTemp: r1(20 + 15 * cycle + (d % 7) * 0.3),
    })
  }
  for (let d = 0; d < shape.meters; d++) {
    meters.push({
      meterId: meterId(d),
      timestamp: new Date(startMs + ((d * 7919 + 13) % intervalS) * 1000).toISOString(),
      kwhConsumedAc: r4((acOf.get(d) ?? 0) + (0.0005 * intervalS) / 60),
      voltage: r1(228 + ((k * 31 + d * 17) % 50) / 10),
    })
  }
  return { meters, vehicles }
}

const FLEET_FROM_HISTORY = {
  meter: `
    INSERT INTO meter_fleet_minutely AS f (minute, shard, readings, kwh_consumed_ac_sum)
    SELECT date_trunc('minute', ts, 'UTC'), 0, count(*), sum(kwh_consumed_ac)
      FROM meter_history WHERE ts >= $1 AND ts < $2 GROUP BY 1
    ON CONFLICT (minute, shard) DO UPDATE SET readings = f.readings + excluded.readings,
      kwh_consumed_ac_sum = f.kwh_consumed_ac_sum + excluded.kwh_consumed_ac_sum`,
  vehicle: `
    INSERT INTO vehicle_fleet_minutely AS f (minute, shard, readings, kwh_delivered_dc_sum, battery_temp_sum)
    SELECT date_trunc('minute', ts, 'UTC'), 0, count(*), sum(kwh_delivered_dc), sum(battery_temp)
      FROM vehicle_history WHERE ts >= $1 AND ts < $2 GROUP BY 1
    ON CONFLICT (minute, shard) DO UPDATE SET readings = f.readings + excluded.readings,
      kwh_delivered_dc_sum = f.kwh_delivered_dc_sum + excluded.kwh_delivered_dc_sum,
      battery_temp_sum = f.battery_temp_sum + excluded.battery_temp_sum`,
}

export class HistoryLoader {
  /** Rounds loaded so far (0 = none). */
  rounds = 0
  private readonly meterClient: pg.Client
  private readonly vehicleClient: pg.Client

  constructor(
    private readonly url: string,
    readonly shape: HistoryShape,
  ) {
    this.meterClient = new pg.Client({ connectionString: url })
    this.vehicleClient = new pg.Client({ connectionString: url })
  }

  get devices(): number {
    return this.shape.vehicles + this.shape.meters
  }

  get oldestMs(): number {
    return this.shape.newestMs - (this.shape.maxRounds - 1) * this.shape.intervalS * 1000
  }

  /** Partitions for the whole span, the watermark before the oldest hour, assignments. */
  async prepare(): Promise<void> {
    await Promise.all([this.meterClient.connect(), this.vehicleClient.connect()])
    const c = this.meterClient
    const months: Date[] = []
    for (let t = this.oldestMs - 31 * 86_400_000; t <= Date.now() + 31 * 86_400_000; t += 86_400_000) {
      months.push(new Date(t))
    }
    await ensureMonths(c, ['meter', 'vehicle'], months)
    for (const kind of ['meter', 'vehicle'] as const) {
      await setRollupMode(c, kind, { perBatch: false, closedBefore: new Date(this.watermarkMs()) })
    }
    const validFrom = new Date(this.oldestMs - 86_400_000).toISOString()
    const rows = Array.from({ length: Math.min(this.shape.vehicles, this.shape.meters) }, (_, d) => ({
      vehicleId: vehicleId(d),
      meterId: meterId(d),
      validFrom,
    }))
    await withTransaction(c, async () => {
      for (let i = 0; i < rows.length; i += 5000) await upsertAssignments(c, rows.slice(i, i + 5000))
    })
  }

  private watermarkMs(): number {
    return Math.floor(this.oldestMs / HOUR_MS) * HOUR_MS
  }

  /** Loads rounds until history holds at least `rows` readings; then closes hours and analyzes. */
  async loadTo(
    rows: number,
    options: { chunkRows: number; vacuum: boolean },
  ): Promise<{ loadMs: number; rows: number }> {
    const target = Math.min(this.shape.maxRounds, Math.ceil(rows / this.devices))
    const t0 = performance.now()
    const startRounds = this.rounds
    if (this.rounds === 0 && target > 0) await this.loadNewestRound()
    const perChunk = Math.max(1, Math.floor(options.chunkRows / this.devices))
    let lastReport = performance.now()
    while (this.rounds < target) {
      const first = this.rounds
      const last = Math.min(target, first + perChunk) - 1
      const meters: MeterRow[] = []
      const vehicles: VehicleRow[] = []
      for (let r = first; r <= last; r++) {
        const rows = roundRows(this.shape, r)
        meters.push(...rows.meters)
        vehicles.push(...rows.vehicles)
      }
      // [oldest round start, newest round end): exactly the rows of this chunk.
      const from = new Date(this.shape.newestMs - last * this.shape.intervalS * 1000)
      const to = new Date(this.shape.newestMs - (first - 1) * this.shape.intervalS * 1000)
      await Promise.all([
        this.copyChunk(this.meterClient, 'meter', meters, from, to),
        this.copyChunk(this.vehicleClient, 'vehicle', vehicles, from, to),
      ])
      this.rounds = last + 1
      if (performance.now() - lastReport > 5000 || this.rounds === target) {
        lastReport = performance.now()
        const loaded = (this.rounds - startRounds) * this.devices
        const s = (performance.now() - t0) / 1000
        progress(
          `  loaded ${(this.rounds * this.devices).toLocaleString('en-US')} rows ` +
            `(${Math.round((this.rounds / target) * 100)} %, ${Math.round(loaded / s).toLocaleString('en-US')} rows/s), ` +
            `back to ${from.toISOString()}`,
        )
      }
    }
    const loadMs = performance.now() - t0
    await this.closeAllHours()
    await this.analyze(options.vacuum)
    return { loadMs, rows: this.rounds * this.devices }
  }

  /** The newest round through the writer's own path: it sets *_live and its fleet minutes. */
  private async loadNewestRound(): Promise<void> {
    const { meters, vehicles } = roundRows(this.shape, 0)
    for (let i = 0; i < meters.length; i += 5000)
      await writeMeterBatch(this.meterClient, meters.slice(i, i + 5000))
    for (let i = 0; i < vehicles.length; i += 5000) {
      await writeVehicleBatch(this.vehicleClient, vehicles.slice(i, i + 5000))
    }
    this.rounds = 1
  }

  /** Planner statistics after a load; with `vacuum`, also the visibility map index-only scans need. */
  private async analyze(vacuum: boolean): Promise<void> {
    if (vacuum) {
      progress('  VACUUM ANALYZE (index-only scans and planner statistics, as autovacuum would leave them)…')
      await Promise.all([
        this.meterClient.query(
          'VACUUM (ANALYZE) meter_history, meter_hourly, meter_live, meter_fleet_minutely, meter_fleet_hourly',
        ),
        this.vehicleClient.query(
          'VACUUM (ANALYZE) vehicle_history, vehicle_hourly, vehicle_live, vehicle_fleet_minutely, vehicle_fleet_hourly, vehicle_meter_assignments',
        ),
      ])
    } else {
      await this.meterClient.query('ANALYZE')
    }
  }

  private async copyChunk(
    client: pg.Client,
    kind: ReadingKind,
    rows: MeterRow[] | VehicleRow[],
    from: Date,
    to: Date,
  ): Promise<void> {
    if (rows.length === 0) return
    await withTransaction(client, async () => {
      if (kind === 'meter') await copyMeterRowsRaw(client, rows as MeterRow[])
      else await copyVehicleRowsRaw(client, rows as VehicleRow[])
      await client.query(FLEET_FROM_HISTORY[kind], [from, to])
    })
  }

  /**
   * Moves the watermark back before the oldest row (older rows were just added below it), then lets
   * closeHours() materialise every closed hour from history, 48 hours a call.
   */
  private async closeAllHours(): Promise<void> {
    const t0 = performance.now()
    let hours = 0
    await Promise.all(
      (['meter', 'vehicle'] as const).map(async (kind) => {
        const client = kind === 'meter' ? this.meterClient : this.vehicleClient
        await setRollupMode(client, kind, { perBatch: false, closedBefore: new Date(this.watermarkMs()) })
        for (;;) {
          const r = await closeHours(client, kind, { maxHours: 48, graceMs: 300_000 })
          if (r.hoursClosed === 0) break
          hours += r.hoursClosed
        }
      }),
    )
    progress(
      `  hourly rollups: ${hours / 2} hours per kind materialised in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    )
  }

  async close(): Promise<void> {
    await Promise.all([this.meterClient.end(), this.vehicleClient.end()])
  }
}
