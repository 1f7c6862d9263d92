// `profile`: where the CPU time of each Node process went, from the V8 CPU profiles that
// `NODE_OPTIONS="--cpu-prof --cpu-prof-dir=<dir>"` makes every Node process of a bench run write at
// exit (the services spawned by the bench inherit it). Each profile is attributed to the service
// whose built files it ran; its self time is grouped by package (fastify, kafkajs, pg, …), by this
// repository's file, by Node's own modules, and by garbage collection; idle time is left out.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Args } from './args.js'
import type { BenchEnvironment } from './infra.js'
import type { BenchResult, Table } from './report.js'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string }
  children?: number[]
}
export interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/** The group a function's self time goes to. */
export function groupOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'GC'
  if (functionName === '(idle)') return 'idle'
  if (functionName === '(program)' || (url === '' && functionName.startsWith('('))) return 'V8/native'
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1]!
  const own = /\/(services|packages)\/([^/]+)\/dist\/(.+)\.js$/.exec(url)
  if (own) return `${own[2]}/${own[3]}`
  return url === '' ? 'V8/native' : 'other'
}

/** Which process a profile is: the service whose built files it ran most. */
export function processOf(profile: CpuProfile): string {
  const seen = new Map<string, number>()
  for (const n of profile.nodes) {
    const m = /\/services\/(gateway|writer|analytics)\/dist\//.exec(n.callFrame.url)
    if (m) seen.set(m[1]!, (seen.get(m[1]!) ?? 0) + 1)
    else if (/\/packages\/bench\/dist\//.test(n.callFrame.url))
      seen.set('bench', (seen.get('bench') ?? 0) + 1)
    else if (/\/infra\/stack\/dist\//.test(n.callFrame.url)) seen.set('stack', (seen.get('stack') ?? 0) + 1)
  }
  const best = [...seen].sort((a, b) => b[1] - a[1])[0]
  return best?.[0] ?? 'other'
}

/** Self time (ms) per group over the whole profile. */
export function selfTimeByGroup(profile: CpuProfile): Map<string, number> {
  const group = new Map<number, string>()
  for (const n of profile.nodes) group.set(n.id, groupOf(n.callFrame.url, n.callFrame.functionName))
  const totals = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const g = group.get(id) ?? 'other'
    totals.set(g, (totals.get(g) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000)
  })
  return totals
}

export async function profileSummary(args: Args, _env: BenchEnvironment): Promise<BenchResult> {
  const dir = args.str('dir', '')
  if (dir === '') throw new Error('--dir: the folder given to --cpu-prof-dir')
  const top = args.num('top', 12, 1)
  const byProcess = new Map<string, Map<string, number>>()
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`)
  for (const f of files) {
    const profile = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile
    const name = processOf(profile)
    const acc = byProcess.get(name) ?? new Map<string, number>()
    for (const [g, ms] of selfTimeByGroup(profile)) acc.set(g, (acc.get(g) ?? 0) + ms)
    byProcess.set(name, acc)
  }
  const tables: Table[] = []
  const figures: Record<string, unknown> = {}
  for (const [name, groups] of [...byProcess].sort()) {
    groups.delete('idle')
    const busy = [...groups.values()].reduce((a, b) => a + b, 0)
    const rows = [...groups].sort((a, b) => b[1] - a[1]).slice(0, top)
    figures[name] = {
      busyMs: Math.round(busy),
      groups: Object.fromEntries(rows.map(([g, ms]) => [g, Math.round(ms)])),
    }
    tables.push({
      title: `${name}: ${(busy / 1000).toFixed(1)} CPU-s busy (self time by group, idle left out)`,
      columns: ['group', 'CPU-s', 'share'],
      rows: rows.map(([g, ms]) => [g, (ms / 1000).toFixed(2), `${((100 * ms) / busy).toFixed(1)} %`]),
    })
  }
  return { bench: 'profile', params: { dir, top, files: files.length }, figures, tables }
}
