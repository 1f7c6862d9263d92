// `chaos`: the fault suite's faults against a whole stack under a stream of readings, measured. Either a
// running `npm start` (--stack: .data/stack.env and .data/stack.pids.json) or a stack of its own. Each
// fault signals one supervised process; the bench then measures how long until every service is ready
// again, until a reading posted right after the fault is stored (the writer consumes again) and visible
// on the replica, and the ingest→visible latency once recovered; at the end, which accepted readings
// were stored: none may be lost and none duplicated.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import pg from 'pg'
import type { Args } from './args.js'
import { ChaosStream, type AcceptedKey } from './chaos-stream.js'
import { HttpClient } from './http.js'
import { readStackEnv, stackEnvFile, type Target } from './infra.js'
import { startOwnStack, type OwnStack } from './own-stack.js'
import { progress, type BenchResult } from './report.js'
import { Samples, round } from './stats.js'

/** A fault: which supervised process gets which signal. */
interface Fault {
  key: string
  name: string
  unit: (pids: Record<string, number>) => string
  signal: NodeJS.Signals
}

const firstOf = (prefix: string) => (pids: Record<string, number>) =>
  Object.keys(pids)
    .filter((n) => n === prefix || n.startsWith(`${prefix}-`))
    .sort()[0] ?? prefix

export const FAULTS: Fault[] = [
  { key: 'writer-kill', name: 'writer SIGKILLed', unit: firstOf('writer'), signal: 'SIGKILL' },
  { key: 'writer-stop', name: 'writer stopped (SIGTERM)', unit: firstOf('writer'), signal: 'SIGTERM' },
  {
    key: 'primary-restart',
    name: 'primary restarted (fast)',
    unit: () => 'postgres-primary',
    signal: 'SIGINT',
  },
  {
    key: 'primary-crash',
    name: 'primary crashed (immediate)',
    unit: () => 'postgres-primary',
    signal: 'SIGQUIT',
  },
  {
    key: 'replica-restart',
    name: 'replica restarted (fast)',
    unit: () => 'postgres-replica',
    signal: 'SIGINT',
  },
  { key: 'broker-kill', name: 'broker SIGKILLed', unit: firstOf('kafka'), signal: 'SIGKILL' },
]

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function readPids(dataDir: string): Record<string, number> {
  return JSON.parse(readFileSync(join(dataDir, 'stack.pids.json'), 'utf8')) as Record<string, number>
}

/** Polls `fn` until it is true; returns the ms since `t0`, or NaN past the deadline. */
async function msUntil(t0: number, fn: () => Promise<boolean>, timeoutMs = 180_000): Promise<number> {
  const deadline = t0 + timeoutMs
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return Date.now() - t0
    await sleep(50)
  }
  return Number.NaN
}

interface FaultFigures {
  fault: string
  readyS: number
  storedAgainS: number
  visibleS: number
  visibleP99Ms: number
  window: [number, number]
}

/** One probe reading: posted (503s retried) from `t0`; ms until stored on the primary and visible. */
async function probe(
  target: Target,
  db: pg.Pool,
  analytics: HttpClient,
  id: string,
  t0: number,
): Promise<{ stored: number; visible: number; fromAck: number }> {
  const ingest = new HttpClient(target.gatewayUrl!, { authorization: `Bearer ${target.fleetToken}` }, 1)
  const timestamp = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString()
  const body = JSON.stringify({ vehicleId: id, soc: 50, kwhDeliveredDc: 0.1, batteryTemp: 25, timestamp })
  let acked = Number.NaN
  await msUntil(t0, async () => {
    const res = await ingest.post('/v1/ingest', body, 'application/json', 10_000)
    if (res.status === 202) acked = Date.now()
    return res.status === 202
  })
  ingest.close()
  const stored = await msUntil(t0, async () => {
    const { rowCount } = await db.query('SELECT 1 FROM vehicle_history WHERE vehicle_id = $1 AND ts = $2', [
      id,
      timestamp,
    ])
    return (rowCount ?? 0) > 0
  })
  const visible = await msUntil(t0, async () => {
    const res = await analytics.get(`/v1/vehicles/${id}/live`, 5000)
    return (
      res.status === 200 &&
      Date.parse((JSON.parse(res.body) as { timestamp: string }).timestamp) >= Date.parse(timestamp)
    )
  })
  return { stored, visible, fromAck: t0 + visible - acked }
}

async function allReady(urls: string[]): Promise<boolean> {
  for (const url of urls) {
    const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) }).catch(
      () => undefined,
    )
    if (res?.status !== 200) return false
  }
  return true
}

/** History rows of the stream's devices, counted per (device, ts) key. */
async function storedKeys(db: pg.Pool, prefix: string): Promise<Map<string, number>> {
  const keys = new Map<string, number>()
  for (const [table, id] of [
    ['meter_history', 'meter_id'],
    ['vehicle_history', 'vehicle_id'],
  ] as const) {
    const res = await db.query<{ id: string; ms: string }>(
      `SELECT ${id} AS id, (extract(epoch FROM ts) * 1000)::bigint::text AS ms FROM ${table}
       WHERE ${id} LIKE $1 AND ${id} NOT LIKE $2`,
      [`${prefix}-%`, `${prefix}-_-%-%`],
    )
    for (const r of res.rows) keys.set(`${r.id}|${r.ms}`, (keys.get(`${r.id}|${r.ms}`) ?? 0) + 1)
  }
  return keys
}

/** Runs one fault: signal, then recovery, hand-over and latency figures. */
async function runFault(
  fault: Fault,
  i: number,
  ctx: {
    target: Target
    dataDir: string
    db: pg.Pool
    analytics: HttpClient
    prefix: string
    durationS: number
  },
): Promise<Omit<FaultFigures, 'window'>> {
  const pids = readPids(ctx.dataDir)
  const unit = fault.unit(pids)
  const pid = pids[unit]
  if (pid === undefined) throw new Error(`no ${unit} in stack.pids.json (${Object.keys(pids).join(', ')})`)
  const urls = [ctx.target.gatewayUrl!, ctx.target.analyticsUrl!, ...(ctx.target.writerUrls ?? [])]
  progress(`fault ${i + 1}: ${fault.name} (${unit}, pid ${pid}, ${fault.signal})`)
  const t0 = Date.now()
  process.kill(pid, fault.signal)
  const handOver = probe(ctx.target, ctx.db, ctx.analytics, `${ctx.prefix}-P-${i}-0`, t0)
  const readyMs = await msUntil(t0, async () => {
    const now = readPids(ctx.dataDir)[unit]
    return now !== undefined && now !== pid && (await allReady(urls))
  })
  const first = await handOver
  // Recovered: ingest→visible of fresh readings, one probe after another, for the rest of the window.
  const latency = new Samples()
  const end = Date.now() + ctx.durationS * 1000
  for (let k = 0; Date.now() < end; k++) {
    const r = await probe(ctx.target, ctx.db, ctx.analytics, `${ctx.prefix}-L-${i}-${k}`, Date.now())
    if (Number.isFinite(r.fromAck)) latency.add(r.fromAck)
    await sleep(200)
  }
  const figures = {
    fault: fault.name,
    readyS: round(readyMs / 1000, 1),
    storedAgainS: round(first.stored / 1000, 1),
    visibleS: round(first.visible / 1000, 1),
    visibleP99Ms: latency.summary().p99,
  }
  progress(`  ${JSON.stringify(figures)}`)
  return figures
}

interface ChaosParams {
  durationS: number
  brokers: number
  writers: number
  partitions: number
  keys: string[]
  faults: Fault[]
}

function chaosParams(args: Args): ChaosParams {
  const keys = args.str('faults', FAULTS.map((f) => f.key).join(',')).split(',')
  const p = {
    durationS: args.num('duration', 20, 1),
    brokers: args.num('brokers', 1, 1),
    writers: args.num('writers', 1, 1),
    partitions: args.num('partitions', 12, 1),
    keys,
    faults: keys.map((k) => FAULTS.find((f) => f.key === k) ?? fail(`--faults: unknown fault ${k}`)),
  }
  if (p.brokers !== 1 && p.brokers !== 3) fail('--brokers: 1 or 3')
  return p
}

interface StreamOutcome {
  rows: FaultFigures[]
  accepted: AcceptedKey[]
  refused: number
  /** History rows of the stream's devices per (device, ts) key, once the writer has stored them all. */
  stored: Map<string, number>
}

/** Runs the faults one after another under a stream of readings, then waits until the stream is stored. */
async function runUnderStream(target: Target, dataDir: string, p: ChaosParams): Promise<StreamOutcome> {
  const db = new pg.Pool({ connectionString: target.primaryUrl, max: 2 })
  db.on('error', () => undefined) // the primary is restarted on purpose
  const analytics = new HttpClient(
    target.analyticsUrl!,
    { authorization: `Bearer ${target.analyticsKey}` },
    4,
  )
  const stream = new ChaosStream(target.gatewayUrl!, target.fleetToken)
  stream.start()
  const ctx = { target, dataDir, db, analytics, prefix: stream.prefix, durationS: p.durationS }
  const rows: FaultFigures[] = []
  for (const [i, fault] of p.faults.entries()) {
    const from = stream.accepted.length
    const figures = await runFault(fault, i, ctx)
    rows.push({ ...figures, window: [from, stream.accepted.length] })
  }
  await stream.stop()
  progress(
    `stream stopped: ${stream.accepted.length} readings accepted, ${stream.refused} refusals; draining…`,
  )
  await msUntil(Date.now(), async () => (await storedKeys(db, stream.prefix)).size >= stream.accepted.length)
  const stored = await storedKeys(db, stream.prefix)
  await db.end()
  analytics.close()
  return { rows, accepted: stream.accepted, refused: stream.refused, stored }
}

/** Per fault: the readings accepted in its window, and how many were stored once, never, or more. */
function tally(o: StreamOutcome) {
  return o.rows.map((r) => {
    const window = o.accepted.slice(r.window[0], r.window[1]).map((k) => `${k.device}|${k.tsMs}`)
    const counts = window.map((k) => o.stored.get(k) ?? 0)
    return {
      ...r,
      accepted: window.length,
      stored: counts.filter((n) => n > 0).length,
      lost: counts.filter((n) => n === 0).length,
      duplicated: counts.reduce((sum, n) => sum + Math.max(0, n - 1), 0),
    }
  })
}

function chaosReport(
  p: ChaosParams,
  shape: { brokers: number; writers: number },
  stack: boolean,
  o: StreamOutcome,
): BenchResult {
  const acceptedSet = new Set(o.accepted.map((k) => `${k.device}|${k.tsMs}`))
  // Rows of keys no device had accepted: a refused send can still land (it is resent until accepted).
  const extra = [...o.stored.keys()].filter((k) => !acceptedSet.has(k)).length
  const table = tally(o)
  const duplicated = table.reduce((sum, r) => sum + r.duplicated, 0)
  return {
    bench: 'chaos',
    params: { durationS: p.durationS, ...shape, partitions: p.partitions, faults: p.keys, stack },
    figures: { faults: table, accepted: o.accepted.length, refusals: o.refused, duplicated, extra },
    tables: [
      {
        title: `faults under a stream of readings (${shape.brokers} broker(s), ${shape.writers} writer(s); ${p.durationS} s after each recovery)`,
        columns: [
          'fault',
          'ready again s',
          'stored again s',
          'visible again s',
          'accepted',
          'stored',
          'lost',
          'duplicated',
          'visible p99 ms after',
        ],
        rows: table.map((r) => [
          r.fault,
          r.readyS,
          r.storedAgainS,
          r.visibleS,
          r.accepted,
          r.stored,
          r.lost,
          r.duplicated,
          r.visibleP99Ms,
        ]),
      },
    ],
    notes: [
      `duplicated = history rows beyond one per accepted (device, timestamp); over the run: ${duplicated}; rows of keys never accepted: ${extra}`,
      'ready again = from the signal until the supervisor restarted the process and every service answers /health/ready',
      'stored again / visible again = from the signal until a reading posted right then (503s retried) is in history on the primary / returned by analytics from the replica',
      `gateway refusals (503/429, retried) during the run: ${o.refused}`,
    ],
  }
}

export async function chaosBench(args: Args): Promise<BenchResult> {
  const p = chaosParams(args)
  const { brokers, writers, partitions } = p
  let own: OwnStack | undefined
  if (!args.bool('stack')) own = await startOwnStack({ brokers: brokers === 3 ? 3 : 1, writers, partitions })
  const envFile = own ? join(own.dataDir, 'stack.env') : stackEnvFile()
  const dataDir = dirname(envFile)
  try {
    const target = readStackEnv(envFile)
    // A running stack says what it runs: the title reports its brokers and writers, not the flags'.
    const shape = own
      ? { brokers, writers }
      : { brokers: target.brokers?.length ?? brokers, writers: target.writerUrls?.length ?? writers }
    const outcome = await runUnderStream(target, dataDir, p)
    return chaosReport(p, shape, args.bool('stack'), outcome)
  } finally {
    await own?.stop()
  }
}

function fail(message: string): never {
  throw new Error(message)
}
