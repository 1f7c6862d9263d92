// PostgreSQL's side of a bench's profile (`--pg-statements`): which statements its time went to, from
// pg_stat_statements, as a share of all statements' execution time and as µs per stored reading.
import type pg from 'pg'
import type { Table } from './report.js'
import { round } from './stats.js'

/** postgresql.conf lines that load the extension (both servers; the replica's reads are not shown). */
export const PG_STATEMENTS_SETTINGS = ["shared_preload_libraries = 'pg_stat_statements'"]

export interface StatementFigure {
  /** The normalised statement, whitespace folded. */
  query: string
  calls: number
  totalMs: number
  meanMs: number
  rowsPerCall: number
  /** Of all top-level statements' execution time in the database. */
  share: number
  usPerReading: number
}

/** Forgets what was counted so far (call it where the measured part starts). */
export async function resetStatements(db: pg.Client): Promise<void> {
  await db.query('SELECT pg_stat_statements_reset()')
}

/** The `top` statements of the client's database by total execution time since the reset. */
export async function topStatements(
  db: pg.Client,
  top: number,
  readings: number,
): Promise<StatementFigure[]> {
  const { rows } = await db.query<{ query: string; calls: string; total: number; rows: string; all: number }>(
    `SELECT query, calls, total_exec_time AS total, rows, sum(total_exec_time) OVER () AS all
     FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     ORDER BY total_exec_time DESC`,
  )
  return rows.slice(0, top).map((r) => {
    const calls = Number(r.calls)
    return {
      query: r.query.replace(/\s+/g, ' ').trim(),
      calls,
      totalMs: round(r.total, 1),
      meanMs: round(r.total / Math.max(calls, 1), 3),
      rowsPerCall: round(Number(r.rows) / Math.max(calls, 1), 1),
      share: round((100 * r.total) / Math.max(r.all, 1e-9), 1),
      usPerReading: readings > 0 ? round((1000 * r.total) / readings, 2) : 0,
    }
  })
}

export function statementsTable(title: string, figures: StatementFigure[]): Table {
  return {
    title,
    columns: ['share %', 'µs/reading', 'calls', 'mean ms', 'rows/call', 'statement'],
    rows: figures.map((f) => [
      f.share,
      f.usPerReading,
      f.calls,
      f.meanMs,
      f.rowsPerCall,
      f.query.length > 110 ? `${f.query.slice(0, 107)}…` : f.query,
    ]),
  }
}
