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
import { simulateReport } from './simulate-report.js'

const DAY_MS = 86_400_000

export interface Sender {
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

export interface SimulateParams {
  vehicles: number
  meters: number
  intervalS: number
  speed: number
  mode: Sender['mode']
  batchSize: number
  concurrency: number
  durationS: number
  maxReadings: number
  skipAssignments: boolean
  meterMode: MeterMode
  resetProbability: number
  lateProbability: number
}

function simulateParams(args: Args): SimulateParams {
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
  return {
    vehicles,
    meters,
    intervalS,
    speed,
    mode,
    batchSize,
    concurrency,
    durationS,
    maxReadings,
    skipAssignments,
    meterMode,
    resetProbability,
    lateProbability,
  }
}

/** The gateway to post to: --gateway/--token, the running stack's (--stack), or one started here. */
async function simulateTarget(
  args: Args,
  env: BenchEnvironment | undefined,
): Promise<{ gatewayUrl: string; token: string }> {
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
  return { gatewayUrl, token }
}

/** Posts the fleet's vehicle-meter assignments, valid from `validFrom`; warns about refused ones. */
async function postAssignments(
  s: Sender,
  assignments: { vehicleId: string; meterId: string; validFrom: string }[],
): Promise<void> {
  progress(`posting ${assignments.length} assignments…`)
  let failed = 0
  for (const a of assignments) {
    await s.pool.submit(async () => {
      const res = await s.client.http.post('/v1/assignments', JSON.stringify(a))
      if (res.status !== 202) failed++
    })
  }
  await s.pool.drain()
  if (failed > 0) progress(`warning: ${failed} assignments were not accepted`)
}

/** The readings of a round grouped by the second of the interval they are due at, in time order. */
function slotsOf(readings: AnyReading[], intervalS: number): [number, AnyReading[]][] {
  const slots = new Map<number, AnyReading[]>()
  for (const r of readings) {
    const phaseS = Math.floor(Date.parse(r.timestamp) / 1000) % intervalS
    const slot = slots.get(phaseS) ?? []
    slot.push(r)
    slots.set(phaseS, slot)
  }
  return [...slots.entries()].sort((a, b) => a[0] - b[0])
}

/** The simulation's clocks and counters while it runs. */
export interface Run {
  p: SimulateParams
  sender: Sender
  fleet: Fleet
  registers: RegisterMeters | undefined
  meterIdOf: (id: string) => string
  /** Wall clock at the start, and the simulated time it stands for. */
  wallStart: number
  simStart: number
  wallEnd: number
  simRound: number
  maxBehindMs: number
  lastReport: number
  queued: number
}

/** One simulated round's readings: each device at its own second, register meters as they report. */
function roundReadings(run: Run): AnyReading[] {
  const { intervalS } = run.p
  const { meters: ms, vehicles: vs } = run.fleet.step(new Date(run.simRound), intervalS)
  // Each device reports at its own second within the interval: slot s holds the devices of phase s.
  const all: AnyReading[] = [...ms, ...vs]
  for (let d = 0; d < all.length; d++) {
    all[d]!.timestamp = new Date(run.simRound + ((d * 7919) % intervalS) * 1000).toISOString()
  }
  for (const m of ms) m.meterId = run.meterIdOf(m.meterId)
  // Register meters: this round's registers, and late ones of earlier rounds at their own second.
  return run.registers ? [...run.registers.step(ms), ...vs] : all
}

/** Sends the rounds' slots when they are due, until the duration or the reading count is reached. */
async function runRounds(run: Run, t0: number): Promise<void> {
  const { p, sender } = run
  const client = sender.client
  for (;;) {
    for (const [phaseS, slot] of slotsOf(roundReadings(run), p.intervalS)) {
      const dueWall = run.wallStart + (run.simRound + phaseS * 1000 - run.simStart) / p.speed
      if (dueWall >= run.wallEnd || (p.maxReadings && run.queued >= p.maxReadings)) return
      await until(dueWall)
      run.maxBehindMs = Math.max(run.maxBehindMs, Date.now() - dueWall)
      const readings = p.maxReadings ? slot.slice(0, p.maxReadings - run.queued) : slot
      run.queued += readings.length
      await send(sender, readings)
      if (Date.now() - run.lastReport > 5000) {
        run.lastReport = Date.now()
        const el = (Date.now() - t0) / 1000
        progress(
          `${client.accepted} accepted (${Math.round(client.accepted / el)}/s), ${client.rejected} rejected, ` +
            `${client.unavailable} 503/429, ${client.errors} errors; sim time ${new Date(run.simRound).toISOString()}`,
        )
      }
    }
    run.simRound += p.intervalS * 1000
  }
}

/** How the meters report: the OCPP modes' meter ids, and the register meters of the register modes. */
function meterSetup(p: SimulateParams): Pick<Run, 'meterIdOf' | 'registers'> {
  const ocpp = p.meterMode === 'ocpp-1.6' || p.meterMode === 'ocpp-2.0.1'
  return {
    // OCPP readings belong to meter <chargePointId>:1; the fleet's meter ids are the charge point ids
    meterIdOf: (id: string) => (ocpp ? ocppMeterId(id) : id),
    registers:
      p.meterMode === 'interval'
        ? undefined
        : new RegisterMeters({ resetProbability: p.resetProbability, lateProbability: p.lateProbability }),
  }
}

function describe(p: SimulateParams): string {
  const {
    vehicles,
    meters,
    intervalS,
    speed,
    meterMode,
    mode,
    batchSize,
    concurrency,
    durationS,
    maxReadings,
  } = p
  return (
    `simulating ${vehicles} vehicles + ${meters} meters, a reading every ${intervalS} s (sim), ` +
    `${speed}× clock, meters ${meterMode}, ${mode}${mode === 'batch' ? ` of ${batchSize}` : ''}, ` +
    `${concurrency} in flight, ` +
    `for ${durationS} s${maxReadings ? ` or ${maxReadings} readings` : ''}`
  )
}

export async function simulate(args: Args, env: BenchEnvironment | undefined): Promise<BenchResult> {
  const p = simulateParams(args)
  const { vehicles, meters, intervalS, speed, durationS, concurrency } = p
  const { meterIdOf, registers } = meterSetup(p)
  const { gatewayUrl, token } = await simulateTarget(args, env)

  // Accelerated: simulate [now - duration × speed, now]; real time: start now.
  const spanMs = speed > 1 ? Math.min(durationS * speed * 1000, 390 * DAY_MS) : 0
  const fleet = new Fleet({ vehicles, meters })
  const client = new IngestClient(gatewayUrl, token, concurrency)
  const pool = new Dispatcher(concurrency)
  const sender: Sender = { client, pool, mode: p.mode, batchSize: p.batchSize, meterMode: p.meterMode }

  if (!p.skipAssignments && vehicles > 0) {
    const validFrom = new Date(Date.now() - spanMs - DAY_MS)
    await postAssignments(
      sender,
      fleet.assignments(validFrom).map((x) => ({ ...x, meterId: meterIdOf(x.meterId) })),
    )
  }

  progress(describe(p))
  // The clocks start once the assignments are in: started before, the time spent posting them (× speed)
  // pushed the simulated time past now, and the gateway refused those readings as from the future.
  const wallStart = Date.now()
  const simStart = wallStart - spanMs
  const t0 = Date.now()
  const simAt = (wallMs: number) => simStart + (wallMs - wallStart) * speed
  const run: Run = {
    p,
    sender,
    fleet,
    registers,
    meterIdOf,
    wallStart,
    simStart,
    wallEnd: wallStart + durationS * 1000,
    simRound: Math.floor(simAt(t0) / (intervalS * 1000)) * intervalS * 1000,
    maxBehindMs: 0,
    lastReport: Date.now(),
    queued: 0,
  }
  await runRounds(run, t0)
  if (registers) await send(sender, registers.flush()) // readings still held back
  await sender.pool.drain()
  const elapsedS = (Date.now() - t0) / 1000
  client.close()
  if (client.lastError && client.accepted < client.sent) progress(`last error: ${client.lastError}`)
  return simulateReport(run, gatewayUrl, elapsedS)
}
