// `e2e`: sustained readings/s through gateway → Kafka → writer → PostgreSQL, and the ingest→queryable
// latency: probe readings posted alongside the load, timed from their 202 to the moment the analytics
// service (on the replica) returns them as the vehicle's live state. One phase per meter path
// (`--paths interval,register`), one after the other on the same stack, so the register path's rate is
// reported next to the interval path's, measured in the same run.
import pg from 'pg'
import type { Args } from './args.js'
import { Dispatcher, until } from './dispatcher.js'
import { HttpClient, assertLoopback } from './http.js'
import { IngestClient } from './ingest-client.js'
import { LiveGenerator, PATHS, type MeterPath } from './live-generator.js'
import { type BenchEnvironment, readStackEnv } from './infra.js'
import { rawCopyBaseline, withCpu } from './e2e-headline.js'
import { e2eReport } from './e2e-report.js'
import { resetStatements, topStatements, type StatementFigure } from './pg-statements.js'
import { progress, type BenchResult } from './report.js'
import { Samples, round } from './stats.js'

/**
 * Readings stored in or after `from`'s minute, from the fleet minute rollups (a row per minute and
 * shard, folded in the writer's transaction for every stored reading). Counting history instead scans
 * every row stored so far, on each poll: it took a fifth of PostgreSQL's statement time in the e2e
 * run's statement profile, competing with the writer it measures.
 */
async function storedSince(db: pg.Client, from: Date): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT (SELECT coalesce(sum(readings), 0) FROM meter_fleet_minutely WHERE minute >= date_trunc('minute', $1::timestamptz, 'UTC'))
      + (SELECT coalesce(sum(readings), 0) FROM vehicle_fleet_minutely WHERE minute >= date_trunc('minute', $1::timestamptz, 'UTC')) AS n`,
    [from],
  )
  return Number(rows[0]!.n)
}

/** Counts the readings stored from now on: earlier phases (all stored by now) may share `from`'s minute. */
async function storedCounter(db: pg.Client, from: Date): Promise<() => Promise<number>> {
  const before = await storedSince(db, from)
  return async () => (await storedSince(db, from)) - before
}

interface Endpoints {
  ingest: IngestClient
  probes: IngestClient
  analytics: HttpClient
  db: pg.Client
}

export interface PhaseOptions {
  durationS: number
  batchSize: number
  concurrency: number
  devices: number
  probeEveryMs: number
  pollMs: number
  drainTimeoutS: number
  rate: number
}

/**
 * The wait before the next visibility poll: `pollMs`, or 2 % of the time waited so far when that is
 * longer. Each figure stays within 2 % (or one poll) of the truth, and a backlog of seconds is not
 * polled 50 times a second per probe: that load lands on the analytics service and the replica, on
 * the same cores as the pipeline being measured.
 */
export const pollGap = (pollMs: number, waitedMs: number) => Math.max(pollMs, waitedMs * 0.02)

/** Posts probe readings every probeEveryMs until loadEnd; resolves with their ingest→queryable times. */
async function probeLoop(e: Endpoints, o: PhaseOptions, t0: number, loadEnd: number, tag: string) {
  const visible = new Samples()
  let missing = 0
  const inFlight: Promise<void>[] = []
  for (let k = 0; Date.now() < loadEnd; k++) {
    await until(t0 + k * o.probeEveryMs)
    const id = `E2E-PROBE-${tag}-${k % 32}`
    const timestamp = new Date().toISOString()
    inFlight.push(
      (async () => {
        const reading = { vehicleId: id, soc: 50, kwhDeliveredDc: 0.1, batteryTemp: 25, timestamp }
        if (!(await e.probes.postSingle(reading))) return
        const acked = performance.now()
        const deadline = acked + 30_000
        while (performance.now() < deadline) {
          const res = await e.analytics.get(`/v1/vehicles/${id}/live`).catch(() => undefined)
          if (
            res?.status === 200 &&
            Date.parse((JSON.parse(res.body) as { timestamp: string }).timestamp) >= Date.parse(timestamp)
          ) {
            visible.add(performance.now() - acked)
            return
          }
          await until(Date.now() + pollGap(o.pollMs, performance.now() - acked))
        }
        missing++
      })(),
    )
  }
  await Promise.all(inFlight)
  return { visible, missing }
}

/**
 * Waits until the stored readings `count` finds are as many as `accepted()` (probes may still add to
 * it), or drainTimeoutS passed. drainedAt: when the stored count last changed.
 */
async function drain(count: () => Promise<number>, accepted: () => number, o: PhaseOptions) {
  let stored = await count()
  const storedAtLoadEnd = stored
  let drainedAt = Date.now()
  const drainDeadline = Date.now() + o.drainTimeoutS * 1000
  while (stored < accepted() && Date.now() < drainDeadline) {
    await until(Date.now() + 250)
    const now = await count()
    if (now !== stored) drainedAt = Date.now()
    stored = now
  }
  return { stored, storedAtLoadEnd, drainedAt }
}

function announce(path: MeterPath | 'warmup', o: PhaseOptions): void {
  progress(
    `${path} meters: ${o.durationS} s, batches of ${o.batchSize} from ${o.devices} devices, ` +
      `${o.concurrency} in flight, ${o.rate > 0 ? `${o.rate} readings/s offered` : 'unthrottled'}; ` +
      `a probe every ${o.probeEveryMs} ms`,
  )
}

/**
 * One load phase on one meter path: load for durationS (probes alongside), then wait until every
 * accepted reading is stored.
 */
async function runPhase(e: Endpoints, o: PhaseOptions, path: MeterPath | 'warmup', label: string = path) {
  const accepted0 = e.ingest.accepted + e.probes.accepted
  const unavailable0 = e.ingest.unavailable
  const errors0 = e.ingest.errors
  const gen = new LiveGenerator(o.devices, path === 'warmup' ? 'interval' : path)
  const pool = new Dispatcher(o.concurrency)
  // readings are stamped at generation, after this: earlier phases (and the warm-up) are not counted
  const runStart = new Date()
  const stored = await storedCounter(e.db, runStart)
  const t0 = Date.now()
  const loadEnd = t0 + o.durationS * 1000
  const timeline: { s: number; accepted: number; stored: number }[] = []
  const acceptedTotal = () => e.ingest.accepted + e.probes.accepted - accepted0

  announce(path, o)
  const probes = probeLoop(e, o, t0, loadEnd, path === 'register' ? 'R' : path === 'warmup' ? 'W' : 'M')
  let lastReport = Date.now()
  for (let k = 0; Date.now() < loadEnd; k++) {
    if (o.rate > 0) await until(t0 + ((k * o.batchSize) / o.rate) * 1000)
    const batch = gen.batch(o.batchSize)
    await pool.submit(() => e.ingest.postBatch(batch).then(() => undefined))
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now()
      const s = (Date.now() - t0) / 1000
      const storedNow = await stored()
      timeline.push({ s: round(s, 1), accepted: acceptedTotal(), stored: storedNow })
      progress(
        `  ${s.toFixed(0)} s: accepted ${acceptedTotal()} (${Math.round(acceptedTotal() / s)}/s), stored ${storedNow}, ` +
          `503/429 ${e.ingest.unavailable - unavailable0}, errors ${e.ingest.errors - errors0}`,
      )
    }
  }
  await pool.drain()
  const loadS = (Date.now() - t0) / 1000
  progress(
    `load done: ${acceptedTotal()} readings accepted in ${loadS.toFixed(1)} s; waiting for the writers…`,
  )
  const drained = await drain(stored, acceptedTotal, o)
  let drainedAt = drained.drainedAt
  const { visible, missing } = await probes
  if (drained.stored >= acceptedTotal()) drainedAt = Math.max(drainedAt, Date.now() - 250)
  const pipelineS = (drainedAt - t0) / 1000
  return {
    path: label,
    durationS: round(loadS, 1),
    accepted: acceptedTotal(),
    stored: drained.stored,
    missing: Math.max(0, acceptedTotal() - drained.stored),
    gatewayAcceptedPerS: round(acceptedTotal() / loadS),
    storedPerSDuringLoad: round(drained.storedAtLoadEnd / loadS),
    pipelineReadingsPerS: round(drained.stored / pipelineS),
    drainAfterLoadS: round((drainedAt - t0) / 1000 - loadS, 1),
    ingestToQueryableMs: visible.summary(),
    probesMissing: missing,
    unavailable: e.ingest.unavailable - unavailable0,
    errors: e.ingest.errors - errors0,
    timeline,
  }
}

function phaseOptions(args: Args): PhaseOptions {
  return {
    durationS: args.num('duration', 30, 1),
    batchSize: args.num('batch-size', 1000, 1),
    concurrency: args.num('concurrency', 8, 1),
    devices: args.num('devices', 20_000, 2),
    probeEveryMs: args.num('probe-ms', 250, 10),
    pollMs: args.num('poll-ms', 20, 1),
    drainTimeoutS: args.num('drain-timeout', 180, 1),
    // Offered load in readings/s; 0 = as fast as the gateway takes it (then a writer that cannot keep
    // up shows as a growing backlog and growing probe latency, which is the honest answer at that rate).
    rate: args.num('rate', 0),
  }
}

interface PipelineTarget {
  gatewayUrl: string
  analyticsUrl: string
  primaryUrl: string
  fleetToken: string
  analyticsKey: string
}

/** The running stack's services (--stack), or a pipeline started here with `writers` writers. */
async function pipelineTarget(
  args: Args,
  env: BenchEnvironment,
  writers: number,
  partitions: number,
): Promise<PipelineTarget> {
  if (args.bool('stack')) {
    const stack = readStackEnv()
    return {
      gatewayUrl: stack.gatewayUrl!,
      analyticsUrl: stack.analyticsUrl!,
      primaryUrl: stack.primaryUrl!,
      fleetToken: stack.fleetToken,
      analyticsKey: stack.analyticsKey,
    }
  }
  await Promise.all([env.startKafka(partitions), env.startPostgres({ durable: !args.bool('fast') })])
  for (let i = 1; i <= writers; i++) await env.startWriter(i, { KAFKA_PARTITIONS: String(partitions) })
  const gatewayUrl = await env.startGateway()
  const analyticsUrl = await env.startAnalytics()
  return {
    gatewayUrl,
    analyticsUrl,
    primaryUrl: env.primaryUrl,
    fleetToken: env.fleetToken,
    analyticsKey: env.analyticsKey,
  }
}

export type Phase = Awaited<ReturnType<typeof runPhase>> & { cpuSecondsPerMillion: Record<string, number> }

export interface Extras {
  warmupS: number
  /** Fraction of the interval phase's pipeline rate offered in a sustained phase; 0 = none. */
  sustain: number
  rawCopyRows: number
  /** `--pg-statements`: the top statements of the measured phases (the sustained one included). */
  pgStatements: boolean
}

/**
 * The warm-up, one measured phase per meter path (the sustained phase right after the interval
 * path's), then the raw COPY baseline;
 * the clients are closed at the end either way.
 */
export async function runPhases(t: PipelineTarget, o: PhaseOptions, paths: MeterPath[], x: Extras) {
  const e: Endpoints = {
    ingest: new IngestClient(t.gatewayUrl, t.fleetToken, o.concurrency),
    probes: new IngestClient(t.gatewayUrl, t.fleetToken, 8),
    analytics: new HttpClient(t.analyticsUrl, { authorization: `Bearer ${t.analyticsKey}` }, 16),
    db: new pg.Client({ connectionString: t.primaryUrl }),
  }
  await e.db.connect()
  const phases: Phase[] = []
  let rawCopy = null
  let statements: StatementFigure[] | null = null
  try {
    // A fresh broker and writer are slow at first (the first produce requests may time out): an
    // unmeasured warm-up keeps that out of whichever path runs first.
    if (x.warmupS > 0) await runPhase(e, { ...o, durationS: x.warmupS, probeEveryMs: 1000 }, 'warmup')
    if (x.pgStatements) await resetStatements(e.db)
    for (const path of paths) {
      const phase = await withCpu(() => runPhase(e, o, path))
      phases.push(phase)
      // Right after the phase that measured the maximum, on the same path: the aftermath of another
      // path's load (the register path's drain, the vacuuming it leaves) is not what this measures.
      if (path === 'interval' && x.sustain > 0 && phase.pipelineReadingsPerS > 0) {
        const rate = Math.round(phase.pipelineReadingsPerS * x.sustain)
        phases.push(await withCpu(() => runPhase(e, { ...o, rate }, 'interval', `interval at ${rate}/s`)))
      }
    }
    if (x.pgStatements)
      statements = await topStatements(
        e.db,
        12,
        phases.reduce((n, p) => n + p.stored, 0),
      )
    rawCopy = await rawCopyBaseline(e.db, x.rawCopyRows)
  } finally {
    await e.db.end()
    e.ingest.close()
    e.probes.close()
    e.analytics.close()
  }
  if (e.ingest.lastError && e.ingest.accepted < e.ingest.sent)
    progress(`last gateway error: ${e.ingest.lastError}`)
  return { phases, rawCopy, statements }
}

export async function e2eBench(args: Args, env: BenchEnvironment): Promise<BenchResult> {
  const o = phaseOptions(args)
  const writers = args.num('writers', 1, 1)
  const partitions = args.num('partitions', 12, 1)
  const paths = args.str('paths', PATHS.join(',')).split(',') as MeterPath[]
  if (paths.length === 0 || paths.some((p) => !PATHS.includes(p)))
    throw new Error(`--paths: a comma-separated list of ${PATHS.join(', ')}`)
  const target = await pipelineTarget(args, env, writers, partitions)
  assertLoopback(target.gatewayUrl)
  assertLoopback(target.analyticsUrl)
  const x: Extras = {
    warmupS: args.num('warmup', 5),
    sustain: args.num('sustain', 0.5),
    rawCopyRows: args.num('raw-copy-rows', 200_000),
    pgStatements: env.pgStatements && !args.bool('stack'),
  }
  if (x.sustain >= 1)
    throw new Error('--sustain: a fraction of the measured rate below 1 (0 = no sustained phase)')
  const result = await runPhases(target, o, paths, x)
  return e2eReport(o, { writers, partitions, paths, stack: args.bool('stack'), ...x }, result)
}
