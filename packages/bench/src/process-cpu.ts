// CPU time per part of the system, read from /proc: every process below a root (the bench itself, so
// the servers it started), grouped by what it runs. Exited children count too: a process's own CPU
// time plus that of the children it has waited for (PostgreSQL's backends come and go; the postmaster
// reaps them). Linux only; elsewhere every sample is empty and the figures are left out.
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { round } from './stats.js'

const { statFields } = createRequire(import.meta.url)('@energy-ingest/localstack/process-alive.cjs') as {
  statFields: (text: string) => string[]
}

export type Role =
  'gateway' | 'writer' | 'analytics' | 'kafka' | 'postgres' | 'bare' | 'floor' | 'bench' | 'other'

/** What a process runs, from its command line. */
export function roleOf(cmdline: string, isRoot = false): Role {
  if (isRoot) return 'bench'
  if (/services\/gateway\/dist\//.test(cmdline)) return 'gateway'
  if (/services\/writer\/dist\//.test(cmdline)) return 'writer'
  if (/services\/analytics\/dist\//.test(cmdline)) return 'analytics'
  // The gateway bench's bare Fastify route (bare-server.ts).
  if (/bench\/dist\/bare-server\.js/.test(cmdline)) return 'bare'
  // Its floor: the bare route behind the gateway's Kafka path (kafka-floor-server.ts).
  if (/bench\/dist\/kafka-floor-server\.js/.test(cmdline)) return 'floor'
  if (/kafka\.Kafka|kafka-server|\bjava\b/.test(cmdline)) return 'kafka'
  if (/^postgres\b|\/postgres\b|^postgres:/.test(cmdline)) return 'postgres'
  return 'other'
}

export interface ProcStat {
  pid: number
  ppid: number
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number
}

/** Parses /proc/<pid>/stat: ppid is field 4, utime..cstime are fields 14..17. */
export function parseStat(text: string): ProcStat {
  const f = statFields(text)
  const at = (field: number) => Number(f[field - 3])
  return {
    pid: Number(text.slice(0, text.indexOf(' '))),
    ppid: at(4),
    ticks: at(14) + at(15) + at(16) + at(17),
  }
}

let clockTicks: number | undefined
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return clockTicks
}

function readProcs(): ProcStat[] {
  let names: string[]
  try {
    names = readdirSync('/proc').filter((n) => /^\d+$/.test(n))
  } catch {
    return []
  }
  const out: ProcStat[] = []
  for (const n of names) {
    try {
      out.push(parseStat(readFileSync(`/proc/${n}/stat`, 'utf8')))
    } catch {
      // gone meanwhile
    }
  }
  return out
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()
  } catch {
    return ''
  }
}

/** CPU seconds so far per role, over the root and every process below it. */
export function sampleCpu(rootPid = process.pid): Map<Role, number> {
  const procs = readProcs()
  const children = new Map<number, ProcStat[]>()
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p])
  const root = procs.find((p) => p.pid === rootPid)
  const totals = new Map<Role, number>()
  if (!root) return totals
  const hz = ticksPerSecond()
  const visit = (p: ProcStat, parentRole: Role | null) => {
    // A child counted under its parent's cutime once reaped; while alive it is counted here, once.
    const role = p.pid === rootPid ? 'bench' : roleOf(cmdline(p.pid))
    const counted = role === 'other' && parentRole !== null && parentRole !== 'bench' ? parentRole : role
    totals.set(counted, (totals.get(counted) ?? 0) + p.ticks / hz)
    for (const c of children.get(p.pid) ?? []) visit(c, counted)
  }
  visit(root, null)
  return totals
}

/** CPU seconds each role used between two samples (roles that ended or began count from 0). */
export function cpuBetween(before: Map<Role, number>, after: Map<Role, number>): Map<Role, number> {
  const out = new Map<Role, number>()
  for (const [role, s] of after) out.set(role, Math.max(0, s - (before.get(role) ?? 0)))
  return out
}

/**
 * CPU seconds per million of `count` (readings, rows: equally µs per one) for each of `roles` that used
 * any, rounded to `digits`; none when nothing was counted.
 */
export function perMillion(
  used: Map<Role, number>,
  count: number,
  roles: readonly Role[],
  digits = 1,
): Partial<Record<Role, number>> {
  const out: Partial<Record<Role, number>> = {}
  for (const role of roles) {
    const s = used.get(role)
    if (s !== undefined && count > 0) out[role] = round((s / count) * 1e6, digits)
  }
  return out
}
