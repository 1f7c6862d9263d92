// Writer storage path vs a raw COPY of the same rows into the same table, same process, same data.
//
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//     node packages/bench/dist/writer-bench.js [--devices 10000] [--batch 10000] [--rows 200000] [--rounds 2]
//
// Creates a scratch database, migrates it, and per round runs each variant on freshly truncated tables
// (variants alternate, so drift hits all of them). Vehicle readings, minute cadence, in time order:
// the shape the writer meets at minute cadence. Closed-hour variants include the closeHours() work for
// the hours they wrote, so they are not credited with skipping the rollup.
//
// Variants: raw-copy (baseline: COPY into vehicle_history, nothing else); raw-copy-live (the floor:
// history and vehicle_live written in the writer path's own two shapes, with no guard, rollups, fleet
// sums or planning); closed-hour-optimistic (the
// writer's default: insertMode auto, hours closed by closeHours); closed-hour-copy (always COPY straight
// into history in a savepoint);
// per-batch-optimistic (same, but every row folded into *_hourly in its transaction); closed-hour-insert
// (COPY into a temp table, then INSERT … SELECT); closed-hour-staged (temp table + ON CONFLICT every
// time); redelivery (the same batches written a second time: every row conflicts).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import {
  closeHours,
  ensureMonths,
  migrate,
  setRollupMode,
  withTransaction,
  writeVehicleBatch,
  type VehicleRow,
  type WriteOptions,
} from '@energy-ingest/db'
import {
  copyVehicleRowsRaw,
  copyVehicleRowsRawWithLive,
  writeVehicleBatchTuned,
  type WritePhase,
  type WriteTuning,
} from '@energy-ingest/db/internal'

export interface WriterBenchOptions {
  /** A database the bench may create databases from (the scratch one is dropped afterwards). */
  adminUrl: string
  devices?: number
  batchSize?: number
  rowsPerRun?: number
  rounds?: number
  variants?: VariantName[]
  log?: (line: string) => void
}

export type VariantName =
  | 'raw-copy'
  | 'raw-copy-live'
  | 'closed-hour-optimistic'
  | 'per-batch-optimistic'
  | 'closed-hour-staged'
  | 'closed-hour-insert'
  | 'closed-hour-copy'
  | 'per-batch-staged'
  | 'redelivery'

interface VariantResult {
  variant: VariantName
  runs: {
    rowsPerSec: number
    ms: number
    /** Rows per CPU-second of this process plus its PostgreSQL backend (null when not measurable). */
    rowsPerCpuSec: number | null
    phases: Partial<Record<WritePhase | 'closeHours', number>>
  }[]
  medianRowsPerSec: number
  ratioToRaw?: number
  medianRowsPerCpuSec?: number
  cpuRatioToRaw?: number
}

const HOUR_MS = 3_600_000
const CLOCK_TICKS_PER_SEC = 100 // Linux USER_HZ

/**
 * CPU milliseconds used so far by this process and the client's PostgreSQL backend (Linux, local server
 * only; null otherwise). On a shared, loaded machine wall-clock rates swing with the neighbours; the CPU
 * cost per row does much less, so the bench reports a ratio of both. Background work of the server
 * (WAL writer, checkpointer, autovacuum) is not counted in either variant.
 */
async function cpuMs(client: pg.Client): Promise<number | null> {
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
    const stat = readFileSync(`/proc/${rows[0]!.pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const backend = ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC) * 1000
    const self = process.cpuUsage()
    return backend + (self.user + self.system) / 1000
  } catch {
    return null
  }
}

/** Minute readings of `devices` vehicles, in time order, starting at `start`. */
function makeRows(devices: number, count: number, start: number): VehicleRow[] {
  const rows: VehicleRow[] = []
  for (let i = 0; i < count; i++) {
    const d = i % devices
    const minute = Math.floor(i / devices)
    rows.push({
      vehicleId: `V-${String(d).padStart(6, '0')}`,
      timestamp: new Date(start + minute * 60_000 + (d % 60) * 1000).toISOString(),
      soc: Math.round((((d * 7 + minute) % 1000) / 10) * 10) / 10,
      kwhDeliveredDc: Math.round((0.5 + ((d * 13 + minute * 7) % 1000) / 1000) * 1000) / 1000,
      batteryTemp: Math.round((20 + ((d + minute) % 200) / 10) * 10) / 10,
      receivedAt: new Date(start + minute * 60_000 + 65_000).toISOString(),
    })
  }
  return rows
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

async function truncate(client: pg.Client) {
  await client.query(
    'TRUNCATE vehicle_history, vehicle_hourly, vehicle_live, vehicle_fleet_minutely, vehicle_fleet_hourly',
  )
  await client.query('CHECKPOINT')
}

async function runVariant(
  client: pg.Client,
  variant: VariantName,
  rows: VehicleRow[],
  batchSize: number,
  start: number,
): Promise<VariantResult['runs'][number]> {
  await truncate(client)
  const phases: Partial<Record<WritePhase | 'closeHours', number>> = {}
  const perBatch = variant.startsWith('per-batch')
  await setRollupMode(
    client,
    'vehicle',
    perBatch ? { perBatch: true } : { perBatch: false, closedBefore: new Date(start) },
  )
  const opts: WriteOptions & WriteTuning = {
    shard: 0,
    insertMode: variant.endsWith('staged')
      ? 'on-conflict'
      : variant.endsWith('insert')
        ? 'insert'
        : variant.endsWith('copy')
          ? 'copy'
          : 'auto',
    timings: phases,
  }
  if (variant === 'redelivery') {
    for (let i = 0; i < rows.length; i += batchSize)
      await writeVehicleBatch(client, rows.slice(i, i + batchSize))
  }
  const cpu0 = await cpuMs(client)
  const t0 = performance.now()
  for (let i = 0; i < rows.length; i += batchSize) {
    const batch = rows.slice(i, i + batchSize)
    if (variant === 'raw-copy') {
      await withTransaction(client, () => copyVehicleRowsRaw(client, batch))
    } else if (variant === 'raw-copy-live') {
      await withTransaction(client, () => copyVehicleRowsRawWithLive(client, batch))
    } else {
      await writeVehicleBatchTuned(client, batch, opts)
    }
  }
  if (!perBatch && !variant.startsWith('raw-copy')) {
    const c0 = performance.now()
    const last = Date.parse(rows[rows.length - 1]!.timestamp)
    await closeHours(client, 'vehicle', {
      upTo: new Date(Math.ceil((last + 1) / HOUR_MS) * HOUR_MS),
      maxHours: 1000,
    })
    phases.closeHours = performance.now() - c0
  }
  const ms = performance.now() - t0
  const cpu1 = await cpuMs(client)
  const rowsPerCpuSec = cpu0 === null || cpu1 === null ? null : (rows.length / (cpu1 - cpu0)) * 1000
  return { rowsPerSec: (rows.length / ms) * 1000, ms, rowsPerCpuSec, phases }
}

/** Fills in each variant's medians and its ratios to raw COPY. */
function summarise(results: Map<VariantName, VariantResult>): VariantResult[] {
  const out = [...results.values()]
  for (const r of out) {
    r.medianRowsPerSec = median(r.runs.map((x) => x.rowsPerSec))
    const cpu = r.runs.map((x) => x.rowsPerCpuSec).filter((x): x is number => x !== null)
    if (cpu.length === r.runs.length) r.medianRowsPerCpuSec = median(cpu)
  }
  const raw = results.get('raw-copy')
  for (const r of out) {
    if (raw) r.ratioToRaw = r.medianRowsPerSec / raw.medianRowsPerSec
    if (raw?.medianRowsPerCpuSec && r.medianRowsPerCpuSec) {
      r.cpuRatioToRaw = r.medianRowsPerCpuSec / raw.medianRowsPerCpuSec
    }
  }
  return out
}

function logSummary(log: (line: string) => void, out: VariantResult[]): void {
  log('\nvariant                   median rows/s   vs raw COPY   rows/CPU-s   vs raw COPY (CPU)')
  for (const r of out) {
    log(
      `${r.variant.padEnd(26)}${Math.round(r.medianRowsPerSec).toString().padStart(13)}   ${(r.ratioToRaw?.toFixed(2) ?? '-').padStart(11)}` +
        `   ${(r.medianRowsPerCpuSec ? String(Math.round(r.medianRowsPerCpuSec)) : '-').padStart(10)}   ${r.cpuRatioToRaw?.toFixed(2) ?? '-'}`,
    )
  }
}

/** Runs the comparison; returns one result per variant with its median rows/s and ratio to raw COPY. */
export async function runWriterBench(options: WriterBenchOptions): Promise<VariantResult[]> {
  const log = options.log ?? ((line: string) => console.log(line))
  const devices = options.devices ?? 10_000
  const batchSize = options.batchSize ?? 10_000
  const rowsPerRun = options.rowsPerRun ?? 200_000
  const rounds = options.rounds ?? 2
  const variants: VariantName[] = options.variants ?? [
    'raw-copy',
    'raw-copy-live',
    'closed-hour-optimistic',
    'per-batch-optimistic',
    'closed-hour-staged',
  ]
  const dbName = `writer_bench_${process.pid}`
  const admin = new pg.Client({ connectionString: options.adminUrl })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${dbName}`)
  await admin.query(`CREATE DATABASE ${dbName}`)
  const url = new URL(options.adminUrl)
  url.pathname = `/${dbName}`
  const client = new pg.Client({ connectionString: url.toString() })
  try {
    await migrate({ connectionString: url.toString() })
    await client.connect()
    // Data in the previous hours, so closed-hour variants write no late rows (the live situation).
    const start = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 2 * HOUR_MS
    const rows = makeRows(devices, rowsPerRun, start)
    await ensureMonths(client, ['vehicle'], [new Date(start), new Date(start + 3 * HOUR_MS)])
    log(
      `writer bench: ${rowsPerRun} vehicle rows/run, ${devices} devices, batch ${batchSize}, ${rounds} rounds`,
    )
    await runVariant(client, 'raw-copy', rows.slice(0, batchSize * 2), batchSize, start) // warm-up
    await runVariant(client, 'closed-hour-optimistic', rows.slice(0, batchSize * 2), batchSize, start)
    const results = new Map<VariantName, VariantResult>(
      variants.map((v) => [v, { variant: v, runs: [], medianRowsPerSec: 0 }]),
    )
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? variants : [...variants].reverse()
      for (const variant of order) {
        const run = await runVariant(client, variant, rows, batchSize, start)
        results.get(variant)!.runs.push(run)
        log(
          `  ${variant.padEnd(24)} ${Math.round(run.rowsPerSec).toString().padStart(8)} rows/s  ${JSON.stringify(Object.fromEntries(Object.entries(run.phases).map(([k, v]) => [k, Math.round(v)])))}`,
        )
      }
    }
    const out = summarise(results)
    logSummary(log, out)
    return out
  } finally {
    await client.end().catch(() => {})
    await admin.query(`DROP DATABASE IF EXISTS ${dbName}`).catch(() => {})
    await admin.end()
  }
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : undefined
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const adminUrl = process.env.BENCH_DATABASE_URL
  if (!adminUrl) {
    console.error('BENCH_DATABASE_URL (a database the bench may CREATE DATABASE from) is required')
    process.exit(2)
  }
  const variantsArg = process.argv.indexOf('--variants')
  const results = await runWriterBench({
    adminUrl,
    devices: arg('devices'),
    batchSize: arg('batch'),
    rowsPerRun: arg('rows'),
    rounds: arg('rounds'),
    variants: variantsArg > 0 ? (process.argv[variantsArg + 1]!.split(',') as VariantName[]) : undefined,
  })
  mkdirSync('bench-results', { recursive: true })
  const file = `bench-results/writer-${new Date().toISOString().replace(/[:.]/g, '-')}.json`
  writeFileSync(
    file,
    JSON.stringify({ at: new Date().toISOString(), argv: process.argv.slice(2), results }, null, 2),
  )
  console.log(`\nwrote ${file}`)
}
