#!/usr/bin/env node
// node packages/bench/dist/cli.js <bench> [--flags]   (or: npm run bench -- <bench> [--flags])
// Progress on stderr, a table on stdout, figures in bench-results/<bench>-<timestamp>.json.
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { Args } from './args.js'
import { analyticsBench } from './analytics-bench.js'
import { batchRefusal } from './batch-refusal.js'
import { chaosBench } from './chaos-bench.js'
import { e2eBench } from './e2e-bench.js'
import { gatewayBench } from './gateway-bench.js'
import { BenchEnvironment } from './infra.js'
import { profileSummary } from './profile.js'
import { progress, publish, type BenchResult } from './report.js'
import { simulate } from './simulate.js'
import { writerBench } from './writer-cmd.js'

const BENCHES: Record<string, (args: Args, env: BenchEnvironment) => Promise<BenchResult>> = {
  simulate,
  gateway: gatewayBench,
  writer: writerBench,
  analytics: analyticsBench,
  e2e: e2eBench,
  chaos: chaosBench,
  'batch-refusal': batchRefusal,
  profile: profileSummary,
}

const USAGE = `usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [--flags]
Each bench starts its own Kafka / PostgreSQL / services unless --stack is given (then it uses the
URLs of a running \`npm start\` from .data/stack.env). See packages/bench/README.md for the flags.`

const args = new Args(process.argv.slice(2))
const name = args.positional[0]
const bench = name === undefined ? undefined : BENCHES[name]
if (!bench || args.bool('help')) {
  process.stderr.write(`${USAGE}\n`)
  process.exit(bench || args.bool('help') ? 0 : 2)
}

const env = new BenchEnvironment()
const cpuProf = args.str('cpu-prof', '')
if (cpuProf !== '') {
  env.cpuProfDir = resolve(cpuProf)
  mkdirSync(env.cpuProfDir, { recursive: true })
}
env.pgStatements = args.bool('pg-statements')
const kafkaJit = args.str('kafka-jit', 'fast-start')
if (kafkaJit !== 'fast-start' && kafkaJit !== 'steady') {
  process.stderr.write(`--kafka-jit: fast-start or steady, not "${kafkaJit}"\n`)
  process.exit(2)
}
env.kafkaJit = kafkaJit
let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true
    progress(`${signal}: stopping…`)
    void env.stop().finally(() => process.exit(130))
  })
}

let code = 0
try {
  const result = await bench(args, env)
  const unknown = args.unknown()
  if (unknown.length > 0) result.notes = [...(result.notes ?? []), `unused flags: ${unknown.join(', ')}`]
  if (!interrupted) publish(result)
} catch (err) {
  progress(`failed: ${(err as Error).stack ?? String(err)}`)
  code = 1
} finally {
  await env.stop()
}
process.exit(code)
