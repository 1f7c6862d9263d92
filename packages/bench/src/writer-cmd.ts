// `writer`: wires the db package's comparison (writer-bench.ts: the writer's storage path vs a raw COPY
// of the same rows into the same table) into the CLI, on a PostgreSQL of its own or the stack's.
import type { Args } from './args.js'
import type { BenchEnvironment } from './infra.js'
import { readStackEnv } from './infra.js'
import { progress, type BenchResult } from './report.js'
import { round } from './stats.js'
import { runWriterBench, type VariantName } from './writer-bench.js'

export async function writerBench(args: Args, env: BenchEnvironment): Promise<BenchResult> {
  const devices = args.num('devices', 10_000, 1)
  const batchSize = args.num('batch', 10_000, 1)
  const rowsPerRun = args.num('rows', 200_000, 1)
  const rounds = args.num('rounds', 2, 1)
  const variants = args.str('variants')?.split(',') as VariantName[] | undefined
  let adminUrl: string
  if (args.bool('stack')) {
    // A scratch database on the stack's server (created and dropped by the bench).
    const url = new URL(readStackEnv().primaryUrl!)
    url.pathname = '/postgres'
    adminUrl = url.toString()
  } else {
    await env.startPostgres({ durable: !args.bool('fast') })
    adminUrl = env.adminUrl
  }
  const results = await runWriterBench({
    adminUrl,
    devices,
    batchSize,
    rowsPerRun,
    rounds,
    variants,
    log: progress,
  })
  const floor = results.find((r) => r.variant === 'raw-copy-live')
  return {
    bench: 'writer',
    params: { devices, batchSize, rowsPerRun, rounds, durable: !args.bool('fast'), variants },
    figures: { results },
    tables: [
      {
        title: `writer storage path vs raw COPY (${rowsPerRun} vehicle rows/run, batch ${batchSize}, ${devices} devices, median of ${rounds})`,
        columns: ['variant', 'median rows/s', 'vs raw COPY', 'vs raw-copy-live', 'runs'],
        rows: results.map((r) => [
          r.variant,
          Math.round(r.medianRowsPerSec),
          r.ratioToRaw === undefined ? null : round(r.ratioToRaw, 3),
          floor ? round(r.medianRowsPerSec / floor.medianRowsPerSec, 3) : null,
          r.runs.map((x) => Math.round(x.rowsPerSec)).join(' / '),
        ]),
      },
    ],
    notes: [
      'targets: the writer path ≥ 0.6 of raw COPY at 1 reading per device per batch, ≥ 0.8 at 10',
      "raw-copy-live: history and the live table written in the writer path's own two shapes, with " +
        'nothing else (no guard, rollups, fleet sums or planning): the least known cost of keeping the ' +
        'live table current per batch',
    ],
  }
}
