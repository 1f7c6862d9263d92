// The end-to-end bench's report: one row per phase, the CPU table, and notes on how to read them.
import type { Extras, Phase, PhaseOptions, runPhases } from './e2e-bench.js'
import { cpuTable } from './e2e-headline.js'
import type { MeterPath } from './live-generator.js'
import { statementsTable } from './pg-statements.js'
import type { BenchResult, Table } from './report.js'
import { round } from './stats.js'

function phaseTable(
  o: PhaseOptions,
  params: { writers: number; stack: boolean },
  phases: Phase[],
  vsRaw: (p: Phase) => number | null,
): Table {
  return {
    title: `end to end: gateway → Kafka → ${params.stack ? 'writer(s)' : `${params.writers} writer(s)`} → PostgreSQL → replica → analytics (${o.durationS} s load per meter path)`,
    columns: [
      'meters',
      'accepted',
      'stored',
      'missing',
      'gateway readings/s',
      'pipeline readings/s',
      'vs raw COPY',
      'drain s',
      'probes',
      'visible p50 ms',
      'visible p99 ms',
      'max ms',
    ],
    rows: phases.map((p) => [
      p.path,
      p.accepted,
      p.stored,
      p.missing,
      p.gatewayAcceptedPerS,
      p.pipelineReadingsPerS,
      vsRaw(p),
      p.drainAfterLoadS,
      p.ingestToQueryableMs.count,
      p.ingestToQueryableMs.p50,
      p.ingestToQueryableMs.p99,
      p.ingestToQueryableMs.max,
    ]),
  }
}

export function e2eReport(
  o: PhaseOptions,
  params: { writers: number; partitions: number; paths: MeterPath[]; stack: boolean } & Extras,
  { phases, rawCopy, statements }: Awaited<ReturnType<typeof runPhases>>,
): BenchResult {
  const rawRate = rawCopy?.rowsPerS
  const vsRaw = (p: Phase) => (rawRate ? round(p.pipelineReadingsPerS / rawRate, 2) : null)
  const byPath = Object.fromEntries(phases.map((p) => [p.path, p]))
  const ratio =
    byPath.interval && byPath.register
      ? round(byPath.register.pipelineReadingsPerS / byPath.interval.pipelineReadingsPerS, 2)
      : null
  return {
    bench: 'e2e',
    params: { ...o, ...params },
    figures: {
      phases: phases.map((p) => ({ ...p, pipelineToRawCopy: vsRaw(p) })),
      rawCopy,
      registerToIntervalPipelineRatio: ratio,
      ...(statements ? { pgStatements: statements } : {}),
    },
    tables: [
      phaseTable(o, params, phases, vsRaw),
      ...(params.stack ? [] : [cpuTable(phases)]),
      ...(statements
        ? [
            statementsTable(
              `PostgreSQL statements of the ${params.paths.join(' and ')} phases (pg_stat_statements, primary)`,
              statements,
            ),
          ]
        : []),
    ],
    notes: [
      ...(rawCopy
        ? [
            `raw COPY baseline (same run, same primary): ${Math.round(rawCopy.rowsPerS)} rows/s; ` +
              'vs raw COPY = pipeline readings/s / that',
          ]
        : []),
      'pipeline readings/s = readings stored / time from the first request until the last one was stored',
      "visible = from the probe's 202 to GET /v1/vehicles/:id/live on the replica returning it (poll every " +
        `${o.pollMs} ms, or 2 % of the wait so far when longer); target: ≥ 50k readings/s with p99 < 2 s`,
      'meters: interval = kwhConsumedAc; register = energyRegisterKwh (the writer derives the energy: ' +
        'per-meter lock, neighbour fetch, recompute); half the readings are vehicles in both',
      ...(ratio === null ? [] : [`register / interval pipeline readings/s: ${ratio}`]),
      ...(statements
        ? [
            'statements: execution time only (not commit and WAL flush, autovacuum, the replica); ' +
              'µs/reading = total time / readings stored in those phases',
          ]
        : []),
    ],
  }
}
