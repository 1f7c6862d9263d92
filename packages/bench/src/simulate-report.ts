// The result of a `simulate` run: what the gateway answered, and how well the clock was kept.
import type { BenchResult } from './report.js'
import type { Run, SimulateParams } from './simulate.js'
import { round } from './stats.js'

/** The run's parameters as reported (the register probabilities only when there are register meters). */
function reportParams(p: SimulateParams, withRegisters: boolean, gatewayUrl: string) {
  return {
    vehicles: p.vehicles,
    meters: p.meters,
    intervalS: p.intervalS,
    speed: p.speed,
    mode: p.mode,
    meterMode: p.meterMode,
    ...(withRegisters ? { resetProbability: p.resetProbability, lateProbability: p.lateProbability } : {}),
    batchSize: p.batchSize,
    concurrency: p.concurrency,
    durationS: p.durationS,
    maxReadings: p.maxReadings,
    gatewayUrl,
  }
}

export function simulateReport(run: Run, gatewayUrl: string, elapsedS: number): BenchResult {
  const { p, registers } = run
  const client = run.sender.client
  const lat = client.latency.summary()
  const figures = {
    devices: p.vehicles + p.meters,
    readingsSent: client.sent,
    accepted: client.accepted,
    rejected: client.rejected,
    unavailable: client.unavailable,
    errors: client.errors,
    requests: client.requests,
    elapsedS: round(elapsedS),
    acceptedPerS: round(client.accepted / elapsedS),
    requestLatencyMs: lat,
    simulatedSpanS: round((run.simRound - run.simStart) / 1000),
    registerResets: registers?.stats.resets ?? 0,
    registerLate: registers?.stats.late ?? 0,
    maxBehindScheduleMs: Math.round(run.maxBehindMs),
  }
  return {
    bench: 'simulate',
    params: reportParams(p, registers !== undefined, gatewayUrl),
    figures,
    tables: [
      {
        title: `simulate: ${p.vehicles} vehicles + ${p.meters} ${p.meterMode} meters, ${p.mode}, ${p.speed}× clock`,
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
