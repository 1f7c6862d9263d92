// What the gateway bench measures per run, and the bounds it derives from the CPU each process spent.
import type { Role } from './process-cpu.js'
import { round } from './stats.js'

/** The bare route, the bare route behind the gateway's Kafka path (the floor), and the gateway. */
export type Target = 'bare' | 'floor' | 'gateway'

export interface Run {
  target: Target
  endpoint: 'single' | 'batch'
  readingsPerRequest: number
  requestsPerS: number
  readingsPerS: number
  p50Ms: number
  p99Ms: number
  non2xx: number
  errors: number
  /** CPU µs per accepted reading of each process this bench started ("bare": the bare route's, "floor": the floor's). */
  cpuUsPerReading: Partial<Record<CpuPart, number>>
  /** CPU used by those processes over the run, as a share of all the machine's cores. */
  busyShare: number | null
  /** Readings and Kafka messages per `sendBatch` over the run (floor and gateway, from their /metrics). */
  perSend?: { readings: number; messages: number }
}

export type CpuPart = Extract<Role, 'bench' | 'bare' | 'floor' | 'gateway' | 'kafka'>

/**
 * The highest gateway / bare ratio these cores allow once Kafka runs on them, when the cores are the
 * limit (busy share near 1): a gateway process costing no more per reading than the bare route, plus
 * the CPU the broker spent per reading in the gateway's run. Generous: the Kafka client's own cost
 * in the gateway is left out.
 */
export function kafkaBound(bare: Run | undefined, gw: Run | undefined): number | null {
  const machine = (bare?.cpuUsPerReading.bench ?? 0) + (bare?.cpuUsPerReading.bare ?? 0)
  const kafka = gw?.cpuUsPerReading.kafka
  if (machine <= 0 || kafka === undefined) return null
  return round(machine / (machine + kafka), 3)
}

/** CPU µs per reading of what a run needs: the load tool, the target's own process and, behind Kafka, the broker. */
function neededCpu(run: Run): number | undefined {
  const own = run.cpuUsPerReading[run.target]
  const bench = run.cpuUsPerReading.bench
  if (own === undefined || bench === undefined) return undefined
  return bench + own + (run.target === 'bare' ? 0 : (run.cpuUsPerReading.kafka ?? 0))
}

/**
 * The bare run's CPU per reading over `run`'s: the highest ratio to the bare route that a path costing
 * what `run` cost can reach once the cores are the limit, however many processes either side runs.
 */
export function cpuRatio(bare: Run | undefined, run: Run | undefined): number | null {
  const base = bare && neededCpu(bare)
  const needed = run && neededCpu(run)
  if (!base || !needed) return null
  return round(base / needed, 3)
}
