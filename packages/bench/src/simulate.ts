// `simulate`: a fleet of meters and vehicles posting realistic readings to the gateway, at the real
// clock or accelerated (then the simulated time runs from the past up to now, since the gateway
// refuses readings from the future). For demos and background load; it measures what the gateway
// answered, not the pipeline behind it.
import type { Args } from './args.js'
import { Dispatcher, until } from './dispatcher.js'
import { Fleet } from './fleet.js'
import { assertLoopback } from './http.js'
import { IngestClient, type AnyReading } from './ingest-client.js'
import {
  METER_MODES,
  RegisterMeters,
  byChargePoint,
  meterValuesPayload,
  ocppMeterId,
  type MeterMode,
} from './registers.js'
import type { BenchEnvironment } from './infra.js'
import { readStackEnv } from './infra.js'
import { progress, type BenchResult } from './report.js'
import { round } from './stats.js'

const DAY_MS = 86_400_000

interface Sender {
  client: IngestClient
  pool: Dispatcher
  mode: 'batch' | 'single'
  batchSize: number
  meterMode: MeterMode
}

/** Posts one slot's readings: meters as OCPP MeterValues per charge point in the OCPP modes. */
async function send(s: Sender, readings: AnyReading[]): Promise<void> {
  let rest = readings
  if (s.meterMode === 'ocpp-1.6' || s.meterMode === 'ocpp-2.0.1') {
    const version = s.meterMode === 'ocpp-1.6' ? '1.6' : '2.0.1'
    const meters = readings.filter((r) => 'meterId' in r)
    rest = readings.filter((r) => !('meterId' in r))
    for (const [cp, list] of byChargePoint(meters)) {
      const payload = meterValuesPayload(version, list)
      await s.pool.submit(() => s.client.postOcpp(version, cp, payload, list.length).then(() => undefined))
    }
  }
  if (s.mode === 'single') {
    for (const r of rest) await s.pool.submit(() => s.client.postSingle(r).then(() => undefined))
  } else {
    for (let i = 0; i < rest.length; i += s.batchSize) {
      const batch = rest.slice(i, i + s.batchSize)
      await s.pool.submit(() => s.client.postBatch(batch).then(() => undefined))
    }
  }
}

export async function simulate(args: Args, env: BenchEnvironment | undefined): Promise<BenchResult> {
  const vehicles = args.num('vehicles', 10_000)
  const meters = args.num('meters', 10_000)
  const intervalS = args.num('interval', 60, 1)
  const speed = args.num('speed', 1, 1)
  const mode = args.str('mode', 'batch')
  if (mode !== 'batch' && mode !== 'single') throw new Error('--mode: batch or single')
  const batchSize = args.num('batch-size', 500, 1)
  const concurrency = args.num('concurrency', mode === 'single' ? 32 : 8, 1)
  const durationS = args.num('duration', 60, 1)
  const maxReadings = args.num('count', 0)
  const skipAssignments = args.bool('no-assignments')
  const meterMode = args.str('meter-mode', 'interval') as MeterMode
  if (!METER_MODES.includes(meterMode)) throw new Error(`--meter-mode: one of ${METER_MODES.join(', ')}`)
  const resetProbability = args.num('resets', 0.001)
  const lateProbability = args.num('late', 0.01)
  const ocpp = meterMode === 'ocpp-1.6' || meterMode === 'ocpp-2.0.1'
  // OCPP readings belong to meter <chargePointId>:1; the fleet's meter ids are the charge point ids
  const meterIdOf = (id: string) => (ocpp ? ocppMeterId(id) : id)
  const registers =
    meterMode === 'interval' ? undefined : new RegisterMeters({ resetProbability, lateProbability })

  let gatewayUrl = args.str('gateway')
  let token = args.str('token')
  if (args.bool('stack')) {
    const stack = readStackEnv()
    gatewayUrl ??= stack.gatewayUrl
    token ??= stack.fleetToken
  } else if (gatewayUrl === undefined && env) {
    await env.startKafka(args.num('partitions', 12, 1))
    gatewayUrl = await env.startGateway()
    token = env.fleetToken
  }
  if (!gatewayUrl || !token) throw new Error('--gateway URL needs --token (a fleet token)')
  assertLoopback(gatewayUrl)

  // Accelerated: simulate [now - duration × speed, now]; real time: start now.
  const spanMs = speed > 1 ? Math.min(durationS * speed * 1000, 390 * DAY_MS) : 0
  const fleet = new Fleet({ vehicles, meters })
  const client = new IngestClient(gatewayUrl, token, concurrency)
  const pool = new Dispatcher(concurrency)
  const sender: Sender = { client, pool, mode: mode as Sender['mode'], batchSize, meterMode }

  if (!skipAssignments && vehicles > 0) {
    progress(`posting ${vehicles} assignments…`)
    const validFrom = new Date(Date.now() - spanMs - DAY_MS)
    let failed = 0
    for (const a of fleet.assignments(validFrom).map((x) => ({ ...x, meterId: meterIdOf(x.meterId) }))) {
      await pool.submit(async () => {
        const res = await client.http.post('/v1/assignments', JSON.stringify(a))
        if (res.status !== 202) failed++
      })
    }
    await pool.drain()
    if (failed > 0) progress(`warning: ${failed} assignments were not accepted`)
  }

  progress(
    `simulating ${vehicles} vehicles + ${meters} meters, a reading every ${intervalS} s (sim), ` +
      `${speed}× clock, meters ${meterMode}, ${mode}${mode === 'batch' ? ` of ${batchSize}` : ''}, ` +
      `${concurrency} in flight, ` +
      `for ${durationS} s${maxReadings ? ` or ${maxReadings} readings` : ''}`,
  )
  // The clocks start once the assignments are in: started before, the time spent posting them (× speed)
  // pushed the simulated time past now, and the gateway refused those readings as from the future.
  const wallStart = Date.now()
  const simStart = wallStart - spanMs
  const simAt = (wallMs: number) => simStart + (wallMs - wallStart) * speed
  const wallEnd = wallStart + durationS * 1000
  const t0 = Date.now()
  const devices = vehicles + meters
  let simRound = Math.floor(simAt(t0) / (intervalS * 1000)) * intervalS * 1000
  let maxBehindMs = 0
  let lastReport = Date.now()
  let queued = 0
  outer: for (;;) {
    const { meters: ms, vehicles: vs } = fleet.step(new Date(simRound), intervalS)
    // Each device reports at its own second within the interval: slot s holds the devices of phase s.
    const all: AnyReading[] = [...ms, ...vs]
    for (let d = 0; d < all.length; d++) {
      all[d]!.timestamp = new Date(simRound + ((d * 7919) % intervalS) * 1000).toISOString()
    }
    for (const m of ms) m.meterId = meterIdOf(m.meterId)
    // Register meters: this round's registers, and late ones of earlier rounds at their own second.
    const out: AnyReading[] = registers ? [...registers.step(ms), ...vs] : all
    const slots = new Map<number, AnyReading[]>()
    for (const r of out) {
      const phaseS = Math.floor(Date.parse(r.timestamp) / 1000) % intervalS
      const slot = slots.get(phaseS) ?? []
      slot.push(r)
      slots.set(phaseS, slot)
    }
    for (const phaseS of [...slots.keys()].sort((a, b) => a - b)) {
      const dueWall = wallStart + (simRound + phaseS * 1000 - simStart) / speed
      if (dueWall >= wallEnd || (maxReadings && queued >= maxReadings)) break outer
      await until(dueWall)
      maxBehindMs = Math.max(maxBehindMs, Date.now() - dueWall)
      let readings = slots.get(phaseS)!
      if (maxReadings) readings = readings.slice(0, maxReadings - queued)
      queued += readings.length
      await send(sender, readings)
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now()
        const el = (Date.now() - t0) / 1000
        progress(
          `${client.accepted} accepted (${Math.round(client.accepted / el)}/s), ${client.rejected} rejected, ` +
            `${client.unavailable} 503/429, ${client.errors} errors; sim time ${new Date(simRound).toISOString()}`,
        )
      }
    }
    simRound += intervalS * 1000
  }
  if (registers) await send(sender, registers.flush()) // readings still held back
  await pool.drain()
  const elapsedS = (Date.now() - t0) / 1000
  client.close()
  if (client.lastError && client.accepted < client.sent) progress(`last error: ${client.lastError}`)
  const lat = client.latency.summary()
  const figures = {
    devices,
    readingsSent: client.sent,
    accepted: client.accepted,
    rejected: client.rejected,
    unavailable: client.unavailable,
    errors: client.errors,
    requests: client.requests,
    elapsedS: round(elapsedS),
    acceptedPerS: round(client.accepted / elapsedS),
    requestLatencyMs: lat,
    simulatedSpanS: round((simRound - simStart) / 1000),
    registerResets: registers?.stats.resets ?? 0,
    registerLate: registers?.stats.late ?? 0,
    maxBehindScheduleMs: Math.round(maxBehindMs),
  }
  return {
    bench: 'simulate',
    params: {
      vehicles,
      meters,
      intervalS,
      speed,
      mode,
      meterMode,
      ...(registers ? { resetProbability, lateProbability } : {}),
      batchSize,
      concurrency,
      durationS,
      maxReadings,
      gatewayUrl,
    },
    figures,
    tables: [
      {
        title: `simulate: ${vehicles} vehicles + ${meters} ${meterMode} meters, ${mode}, ${speed}× clock`,
        columns: [
          'readings sent',
          'accepted',
          'rejected',
          '503/429',
          'errors',
          'readings/s',
          'req p50 ms',
          'req p99 ms',
          'max behind ms',
        ],
        rows: [
          [
            client.sent,
            client.accepted,
            client.rejected,
            client.unavailable,
            client.errors,
            figures.acceptedPerS,
            lat.p50,
            lat.p99,
            figures.maxBehindScheduleMs,
          ],
        ],
      },
    ],
  }
}
