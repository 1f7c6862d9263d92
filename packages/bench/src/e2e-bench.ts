// `e2e`: sustained readings/s through gateway → Kafka → writer → PostgreSQL, and the ingest→queryable
// latency: probe readings posted alongside the load, timed from their 202 to the moment the analytics
// service (on the replica) returns them as the vehicle's live state.
import pg from 'pg'
import type { Args } from './args.js'
import { Dispatcher, until } from './dispatcher.js'
import { HttpClient, assertLoopback } from './http.js'
import { IngestClient, type AnyReading } from './ingest-client.js'
import { type BenchEnvironment, readStackEnv } from './infra.js'
import { progress, type BenchResult } from './report.js'
import { Samples, round } from './stats.js'

/** Readings stamped with the wall clock, devices in turn, each device's timestamps strictly rising. */
class LiveGenerator {
  private next = 0
  private readonly lastMs: Float64Array

  constructor(private readonly devices: number) {
    this.lastMs = new Float64Array(devices)
  }

  batch(size: number): AnyReading[] {
    const out: AnyReading[] = []
    const now = Date.now()
    for (let i = 0; i < size; i++) {
      const d = this.next++ % this.devices
      const ms = Math.max(now, this.lastMs[d]! + 1)
      this.lastMs[d] = ms
      const timestamp = new Date(ms).toISOString()
      const n = d >> 1
      const x = ((ms / 1000 + d) % 100) / 100
      out.push(
        d % 2 === 0
          ? { meterId: `E2E-M-${n}`, kwhConsumedAc: Math.round(x * 2000) / 10_000, voltage: 230.1, timestamp }
          : {
              vehicleId: `E2E-V-${n}`,
              soc: Math.round(200 + x * 600) / 10,
              kwhDeliveredDc: Math.round(x * 1800) / 10_000,
              batteryTemp: 27.5,
              timestamp,
            },
      )
    }
    return out
  }
}

async function storedSince(db: pg.Client, from: Date): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM meter_history WHERE ts >= $1) + (SELECT count(*) FROM vehicle_history WHERE ts >= $1) AS n`,
    [from],
  )
  return Number(rows[0]!.n)
}

export async function e2eBench(args: Args, env: BenchEnvironment): Promise<BenchResult> {
  const durationS = args.num('duration', 30, 1)
  const batchSize = args.num('batch-size', 1000, 1)
  const concurrency = args.num('concurrency', 8, 1)
  const devices = args.num('devices', 20_000, 2)
  const probeEveryMs = args.num('probe-ms', 250, 10)
  const pollMs = args.num('poll-ms', 20, 1)
  const writers = args.num('writers', 1, 1)
  const partitions = args.num('partitions', 12, 1)
  const drainTimeoutS = args.num('drain-timeout', 180, 1)
  // Offered load in readings/s; 0 = as fast as the gateway takes it (then a writer that cannot keep
  // up shows as a growing backlog and growing probe latency, which is the honest answer at that rate).
  const rate = args.num('rate', 0)

  let gatewayUrl: string
  let analyticsUrl: string
  let primaryUrl: string
  let fleetToken: string
  let analyticsKey: string
  if (args.bool('stack')) {
    const stack = readStackEnv()
    gatewayUrl = stack.gatewayUrl!
    analyticsUrl = stack.analyticsUrl!
    primaryUrl = stack.primaryUrl!
    fleetToken = stack.fleetToken
    analyticsKey = stack.analyticsKey
  } else {
    await Promise.all([env.startKafka(partitions), env.startPostgres({ durable: !args.bool('fast') })])
    for (let i = 1; i <= writers; i++) await env.startWriter(i, { KAFKA_PARTITIONS: String(partitions) })
    gatewayUrl = await env.startGateway()
    analyticsUrl = await env.startAnalytics()
    primaryUrl = env.primaryUrl
    fleetToken = env.fleetToken
    analyticsKey = env.analyticsKey
  }
  assertLoopback(gatewayUrl)
  assertLoopback(analyticsUrl)

  const ingest = new IngestClient(gatewayUrl, fleetToken, concurrency)
  const probes = new IngestClient(gatewayUrl, fleetToken, 8)
  const analytics = new HttpClient(analyticsUrl, { authorization: `Bearer ${analyticsKey}` }, 16)
  const db = new pg.Client({ connectionString: primaryUrl })
  await db.connect()
  const visible = new Samples()
  let probeMissing = 0
  const gen = new LiveGenerator(devices)
  const pool = new Dispatcher(concurrency)
  const runStart = new Date(Date.now() - 1000)
  const t0 = Date.now()
  const loadEnd = t0 + durationS * 1000
  const timeline: { s: number; accepted: number; stored: number }[] = []

  progress(
    `load: ${durationS} s, batches of ${batchSize} from ${devices} devices, ${concurrency} in flight, ` +
      `${rate > 0 ? `${rate} readings/s offered` : 'unthrottled'}; ` +
      `a probe every ${probeEveryMs} ms`,
  )
  const probeLoop = (async () => {
    const inFlight: Promise<void>[] = []
    for (let k = 0; Date.now() < loadEnd; k++) {
      await until(t0 + k * probeEveryMs)
      const id = `E2E-PROBE-${k % 32}`
      const timestamp = new Date().toISOString()
      inFlight.push(
        (async () => {
          const ok = await probes.postSingle({
            vehicleId: id,
            soc: 50,
            kwhDeliveredDc: 0.1,
            batteryTemp: 25,
            timestamp,
          })
          if (!ok) return
          const acked = performance.now()
          const deadline = acked + 30_000
          while (performance.now() < deadline) {
            const res = await analytics.get(`/v1/vehicles/${id}/live`).catch(() => undefined)
            if (
              res?.status === 200 &&
              Date.parse((JSON.parse(res.body) as { timestamp: string }).timestamp) >= Date.parse(timestamp)
            ) {
              visible.add(performance.now() - acked)
              return
            }
            await until(Date.now() + pollMs)
          }
          probeMissing++
        })(),
      )
    }
    await Promise.all(inFlight)
  })()

  let lastReport = Date.now()
  for (let k = 0; Date.now() < loadEnd; k++) {
    if (rate > 0) await until(t0 + ((k * batchSize) / rate) * 1000)
    const batch = gen.batch(batchSize)
    await pool.submit(() => ingest.postBatch(batch).then(() => undefined))
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now()
      const s = (Date.now() - t0) / 1000
      const stored = await storedSince(db, runStart)
      timeline.push({ s: round(s, 1), accepted: ingest.accepted, stored })
      progress(
        `  ${s.toFixed(0)} s: accepted ${ingest.accepted} (${Math.round(ingest.accepted / s)}/s), stored ${stored}, ` +
          `503/429 ${ingest.unavailable}, errors ${ingest.errors}; probes seen ${visible.count}`,
      )
    }
  }
  await pool.drain()
  const loadS = (Date.now() - t0) / 1000
  const acceptedTotal = () => ingest.accepted + probes.accepted
  progress(
    `load done: ${acceptedTotal()} readings accepted in ${loadS.toFixed(1)} s; waiting for the writers to drain…`,
  )
  let stored = await storedSince(db, runStart)
  const storedAtLoadEnd = stored
  let drainedAt = Date.now()
  const drainDeadline = Date.now() + drainTimeoutS * 1000
  while (stored < acceptedTotal() && Date.now() < drainDeadline) {
    await until(Date.now() + 250)
    const now = await storedSince(db, runStart)
    if (now !== stored) drainedAt = Date.now()
    stored = now
  }
  await probeLoop
  if (stored >= acceptedTotal()) drainedAt = Math.max(drainedAt, Date.now() - 250)
  await db.end()
  ingest.close()
  probes.close()
  analytics.close()

  const pipelineS = (drainedAt - t0) / 1000
  const lat = visible.summary()
  const figures = {
    durationS: round(loadS, 1),
    accepted: acceptedTotal(),
    stored,
    missing: Math.max(0, acceptedTotal() - stored),
    gatewayAcceptedPerS: round(ingest.accepted / loadS),
    storedPerSDuringLoad: round(storedAtLoadEnd / loadS),
    pipelineReadingsPerS: round(stored / pipelineS),
    drainAfterLoadS: round((drainedAt - t0) / 1000 - loadS, 1),
    ingestToQueryableMs: lat,
    probesMissing: probeMissing,
    unavailable: ingest.unavailable,
    errors: ingest.errors,
    timeline,
  }
  if (ingest.lastError && ingest.accepted < ingest.sent) progress(`last gateway error: ${ingest.lastError}`)
  return {
    bench: 'e2e',
    params: {
      durationS,
      rate,
      batchSize,
      concurrency,
      devices,
      probeEveryMs,
      pollMs,
      writers,
      partitions,
      stack: args.bool('stack'),
    },
    figures,
    tables: [
      {
        title: `end to end: gateway → Kafka → ${args.bool('stack') ? 'writer(s)' : `${writers} writer(s)`} → PostgreSQL → replica → analytics (${durationS} s load)`,
        columns: [
          'accepted',
          'stored',
          'missing',
          'gateway readings/s',
          'pipeline readings/s',
          'drain s',
          'probes',
          'visible p50 ms',
          'visible p99 ms',
          'max ms',
        ],
        rows: [
          [
            figures.accepted,
            figures.stored,
            figures.missing,
            figures.gatewayAcceptedPerS,
            figures.pipelineReadingsPerS,
            figures.drainAfterLoadS,
            lat.count,
            lat.p50,
            lat.p99,
            lat.max,
          ],
        ],
      },
    ],
    notes: [
      'pipeline readings/s = readings stored / time from the first request until the last one was stored',
      "visible = from the probe's 202 to GET /v1/vehicles/:id/live on the replica returning it (poll every " +
        `${pollMs} ms); target: ≥ 50k readings/s with p99 < 2 s`,
    ],
  }
}
