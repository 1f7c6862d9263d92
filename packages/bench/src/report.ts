import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { repoRoot } from '@energy-ingest/localstack'

const started = performance.now()

/** Progress goes to stderr, so stdout carries only the final table. */
export function progress(message: string): void {
  const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6)
  process.stderr.write(`[bench ${s}s] ${message}\n`)
}

export type Cell = string | number | null | undefined
export interface Table {
  title: string
  columns: string[]
  rows: Cell[][]
}

function format(cell: Cell): string {
  if (cell === null || cell === undefined || (typeof cell === 'number' && Number.isNaN(cell))) return '-'
  if (typeof cell === 'number') {
    if (Number.isInteger(cell)) return cell.toLocaleString('en-US')
    return Math.abs(cell) >= 100
      ? Math.round(cell).toLocaleString('en-US')
      : String(Math.round(cell * 100) / 100)
  }
  return cell
}

/** A plain-text table (numbers right-aligned), for the terminal and for pasting into a README. */
export function renderTable(table: Table): string {
  const cells = table.rows.map((r) => r.map(format))
  const widths = table.columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)))
  const line = (r: string[], numeric: boolean[]) =>
    `| ${r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`
  const numeric = table.columns.map((_, i) => table.rows.some((r) => typeof r[i] === 'number'))
  return [
    table.title,
    '',
    line(
      table.columns,
      table.columns.map(() => false),
    ),
    `|${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`,
    ...cells.map((r) => line(r, numeric)),
    '',
  ].join('\n')
}

export function machine() {
  const cpu = cpus()
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
  }
}

export interface BenchResult {
  bench: string
  params: Record<string, unknown>
  tables: Table[]
  figures: Record<string, unknown>
  notes?: string[]
}

/** Prints the tables on stdout and writes bench-results/<name>-<timestamp>.json; returns its path. */
export function publish(result: BenchResult): string {
  for (const table of result.tables) process.stdout.write(`${renderTable(table)}\n`)
  for (const note of result.notes ?? []) process.stdout.write(`note: ${note}\n`)
  const at = new Date()
  const dir = join(repoRoot, 'bench-results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${result.bench}-${at.toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, `${JSON.stringify({ at: at.toISOString(), machine: machine(), ...result }, null, 2)}\n`)
  process.stdout.write(`\nfigures: ${file}\n`)
  return file
}
