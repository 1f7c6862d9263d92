#!/usr/bin/env node
// Entry point of the README's commands. Plain Node (no dependencies), because it runs before
// anything is installed: it makes sure pnpm and node_modules are there, then hands over.
//   node scripts/run.mjs test [vitest args]   install what is missing, build, run every test
//   node scripts/run.mjs start [stack args]   install what is missing, build, start the local stack
//   node scripts/run.mjs token <meter|vehicle> <id>   a device token for the local stack
//   node scripts/run.mjs kafka <tool> [args]   Kafka's command-line tools against the local stack
//   node scripts/run.mjs build|typecheck|lint|bench
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { delimiter, dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stripVTControlCharacters } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const PNPM_VERSION = '10.34.8'
const toolsDir = join(root, '.cache', 'tools')

function log(message) {
  process.stderr.write(`[energy-ingest] ${message}\n`)
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...options })
  if (result.error) throw result.error
  return result.status ?? 1
}

// Set-up steps print to stderr, so that a command's own output (a token, a table) is all of stdout.
const quietStdout = { stdio: ['inherit', 2, 2] }

function runOrExit(cmd, args, options) {
  const status = run(cmd, args, options)
  if (status !== 0) process.exit(status)
}

function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number)
  const ok = (major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major >= 23
  if (!ok) {
    log(`Node ${process.versions.node} is not supported: use Node 20.19+, 22.12+ or 24.`)
    process.exit(1)
  }
}

/** A pnpm 10 binary: the one on PATH if it is pnpm 10, else a copy installed under .cache/tools. */
function ensurePnpm() {
  const onPath = spawnSync('pnpm', ['--version'], { encoding: 'utf8' })
  if (onPath.status === 0 && onPath.stdout.trim().startsWith('10.')) return 'pnpm'
  const local = join(toolsDir, 'node_modules', '.bin', 'pnpm')
  // turbo looks pnpm up on PATH, so the local copy goes there too.
  process.env.PATH = `${dirname(local)}${delimiter}${process.env.PATH ?? ''}`
  if (existsSync(local)) return local
  log(`installing pnpm ${PNPM_VERSION} into .cache/tools (npm registry)…`)
  mkdirSync(toolsDir, { recursive: true })
  runOrExit(
    'npm',
    ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', toolsDir, `pnpm@${PNPM_VERSION}`],
    quietStdout,
  )
  return local
}

function installDependencies(pnpm) {
  log('pnpm install (frozen lockfile)…')
  runOrExit(pnpm, ['install', '--frozen-lockfile', '--prefer-offline', '--reporter=append-only'], quietStdout)
}

const bin = (name) => join(root, 'node_modules', '.bin', name)
const turbo = (args) =>
  runOrExit(bin('turbo'), args, {
    ...quietStdout,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
  })

const resultsFile = join(root, '.cache', 'test-results.json')
/** The TESTENV=containers suite's report (.ci/containers.sh), counted in the summary when present. */
const containersResultsFile = join(root, '.cache', 'test-results-containers.json')

/**
 * vitest's exit status for a report, written beside it: an unhandled error fails the run while every
 * test passes, and the JSON report alone does not show it.
 */
const exitFileOf = (report) => `${report}.exit`

/** The exit status recorded for a report, 0 when none was (an older run). */
function exitStatusOf(report) {
  const file = exitFileOf(report)
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) || 0 : 0
}

/** The first line of an error, without colours, cut to a readable length. */
const firstLine = (text) =>
  stripVTControlCharacters(String(text))
    .split('\n')
    .find((line) => line.trim() !== '')
    ?.trim()
    .slice(0, 300) ?? ''

/** One failed file of a vitest JSON report: its path, its own error (a failed set-up), its failed tests. */
function failureLines(result, suite) {
  const lines = [`failed: ${relative(root, result.name)} (${suite})`]
  if (result.message) lines.push(`  file: ${firstLine(result.message)}`)
  for (const test of result.assertionResults ?? []) {
    if (test.status === 'failed') {
      lines.push(`  test: ${test.fullName ?? test.title}: ${firstLine(test.failureMessages?.[0] ?? '')}`)
    } else if (test.status !== 'passed') {
      lines.push(`  ${test.status === 'pending' ? 'skipped' : test.status}: ${test.fullName ?? test.title}`)
    }
  }
  const failedTests = (result.assertionResults ?? []).some((t) => t.status === 'failed')
  if (!result.message && !failedTests)
    lines.push('  a hook or a describe block failed: its error is in the log above')
  return lines.join('\n') + '\n'
}

/**
 * One plain closing line ("tests: N passed, N failed, N skipped") from vitest's JSON reports: the local
 * suite's, plus the containers suite's when CI ran it, so that a failure in either shows in the line.
 */
function printSummary() {
  const reports = [resultsFile, containersResultsFile].filter((f) => existsSync(f))
  if (reports.length === 0) return
  const total = { passed: 0, failed: 0, skipped: 0, failedFiles: 0, failedRuns: 0 }
  for (const file of reports) {
    const r = JSON.parse(readFileSync(file, 'utf8'))
    total.passed += r.numPassedTests ?? 0
    total.failed += r.numFailedTests ?? 0
    total.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)
    // Per file: numFailedTestSuites also counts each describe block around a failed test.
    const failedFiles = (r.testResults ?? []).filter((t) => t.status === 'failed')
    total.failedFiles += failedFiles.length
    // What failed, by name, next to the closing line: a CI log is often read from its tail only.
    const suite = file === containersResultsFile ? 'containers suite' : 'local suite'
    for (const t of failedFiles) process.stdout.write(failureLines(t, suite))
    const exit = exitStatusOf(file)
    if (exit !== 0 && failedFiles.length === 0 && !(r.numFailedTests > 0)) {
      total.failedRuns++
      process.stdout.write(
        `failed: the ${suite} run (vitest exit ${exit}) with no failed test: an unhandled error or a ` +
          `failed global set-up (vitest's "Unhandled Errors" block above names the file it came from)\n`,
      )
    }
  }
  // A file whose set-up failed fails without a failed test (its tests count as skipped): say so.
  const files =
    (total.failedFiles > 0 ? `; ${total.failedFiles} test file(s) failed` : '') +
    (total.failedRuns > 0 ? `; ${total.failedRuns} run(s) failed with no failed test` : '')
  const parts = reports.length > 1 ? ' (local and containers suites)' : ''
  process.stdout.write(
    `tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped${files}${parts}\n`,
  )
}

const [command = 'test', ...rest] = process.argv.slice(2)
if (command === 'summary') {
  printSummary()
  process.exit(0)
}
if (command === 'kafka') {
  // Needs Java and the broker's jars (scripts/kafka.mjs resolves them), not node_modules.
  const status = run(process.execPath, [join(root, 'scripts', 'kafka.mjs'), ...rest])
  process.exit(status)
}
checkNode()
const pnpm = ensurePnpm()
installDependencies(pnpm)

switch (command) {
  case 'build':
    turbo(['run', 'build', '--output-logs=errors-only'])
    break
  case 'typecheck':
    turbo(['run', 'typecheck', '--output-logs=errors-only'])
    runOrExit(bin('tsc'), ['-p', 'tsconfig.json'])
    break
  case 'lint':
    runOrExit(bin('eslint'), ['.', '--max-warnings=0'])
    runOrExit(bin('prettier'), ['--check', '.', '--log-level=warn'])
    break
  case 'test:unit':
    // Unit tests per package through turbo: cached, so an unchanged package is not tested again.
    turbo(['run', 'test', '--output-logs=errors-only'])
    break
  case 'test':
    // Integration tests spawn services from their build output, so build first (turbo caches it).
    turbo(['run', 'build', '--output-logs=errors-only'])
    {
      rmSync(exitFileOf(resultsFile), { force: true })
      const status = run(bin('vitest'), [
        'run',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${resultsFile}`,
        ...rest,
      ])
      writeFileSync(exitFileOf(resultsFile), `${status}\n`)
      printSummary()
      process.exit(status)
    }
    break
  case 'start': {
    turbo(['run', 'build', '--output-logs=errors-only'])
    // Async, so that a SIGTERM sent to this process reaches the stack, which then stops cleanly.
    const child = spawn(process.execPath, [join(root, 'infra', 'stack', 'dist', 'main.js'), ...rest], {
      cwd: root,
      stdio: 'inherit',
    })
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
    child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
    break
  }
  case 'bench':
    turbo(['run', 'build', '--output-logs=errors-only'])
    runOrExit(process.execPath, [join(root, 'packages', 'bench', 'dist', 'cli.js'), ...rest])
    break
  case 'token': {
    // A device token for the local stack: the secret comes from the environment or .data/secrets.json.
    const secrets = join(root, '.data', 'secrets.json')
    const secret =
      process.env.INGEST_TOKEN_SECRET ??
      (existsSync(secrets) ? JSON.parse(readFileSync(secrets, 'utf8')).tokenSecret : undefined)
    if (!secret) {
      log('no INGEST_TOKEN_SECRET and no .data/secrets.json: run npm start once, or set INGEST_TOKEN_SECRET')
      process.exit(2)
    }
    turbo(['run', 'build', '--filter=@energy-ingest/gateway', '--output-logs=errors-only'])
    runOrExit(process.execPath, [join(root, 'services', 'gateway', 'dist', 'cli', 'token.js'), ...rest], {
      env: { ...process.env, INGEST_TOKEN_SECRET: secret },
    })
    break
  }
  default:
    log(`unknown command "${command}" (test, start, build, typecheck, lint, bench, token, kafka)`)
    process.exit(2)
}
