// What makes the end-to-end figures comparable across machines, measured in the same run as the
// pipeline: a raw COPY of the same kind of rows into the same table (the ceiling of what the
// machine's PostgreSQL takes), CPU seconds per million stored readings for each part of the system
// (from /proc, for the processes this bench started), and the sustained phase's offered rate (half
// the measured maximum, where visibility is not a backlog).
import type pg from 'pg'
import { cpuBetween, perMillion, sampleCpu, type Role } from './process-cpu.js'
import { measureRawCopy, type RawCopyResult } from './raw-copy.js'
import { progress, type Table } from './report.js'

const ROLES: Role[] = ['gateway', 'writer', 'kafka', 'postgres', 'analytics', 'bench']

export type CpuPerMillion = Partial<Record<Role, number>>

/** Runs `phase` and adds the CPU seconds each part used per million readings it stored. */
export async function withCpu<P extends { stored: number }>(
  phase: () => Promise<P>,
): Promise<P & { cpuSecondsPerMillion: CpuPerMillion }> {
  const before = sampleCpu()
  const result = await phase()
  const used = cpuBetween(before, sampleCpu())
  return { ...result, cpuSecondsPerMillion: perMillion(used, result.stored, ROLES) }
}

/** The raw COPY baseline (`--raw-copy-rows`, 0 = none), on the pipeline's primary. */
export async function rawCopyBaseline(db: pg.Client, rows: number): Promise<RawCopyResult | null> {
  if (rows <= 0) return null
  progress(`raw COPY baseline: ${rows} vehicle rows into vehicle_history, 5,000 per transaction…`)
  const r = await measureRawCopy(db, { rows, batchSize: 5_000, nowMs: Date.now() })
  progress(`raw COPY: ${Math.round(r.rowsPerS)} rows/s`)
  return r
}

/** One row per phase: CPU seconds per million stored readings, per part of the system. */
export function cpuTable(phases: { path: string; cpuSecondsPerMillion: CpuPerMillion }[]): Table {
  return {
    title: 'CPU seconds per million stored readings (processes this bench started, from /proc)',
    columns: ['phase', ...ROLES],
    rows: phases.map((p) => [p.path, ...ROLES.map((r) => p.cpuSecondsPerMillion[r])]),
  }
}
