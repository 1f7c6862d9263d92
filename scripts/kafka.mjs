#!/usr/bin/env node
// Apache Kafka's command-line tools, at the broker's version, pointed at the local stack:
//   npm run kafka -- <tool> [tool args]      e.g.  npm run kafka -- consumer-groups --describe --group energy-writer
//   node scripts/kafka.mjs <tool> [tool args]   (the same, without npm)
// The tools run on the jars of infra/kafka/pom.xml (.cache/kafka/<version>/libs, the broker's classpath,
// which includes kafka-tools). `--bootstrap-server` is filled in from the stack's settings
// ($STACK_DATA_DIR/stack.env, default .data/stack.env, written by `npm start`) unless given; with no
// stack running the command stops with a message saying so (exit 2). Plain Node, no dependencies.
import { spawn, spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { connect } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pom = join(root, 'infra', 'kafka', 'pom.xml')
const cacheDir = process.env.ENERGY_CACHE_DIR ?? join(root, '.cache')

/** Tool name (as in Kafka's bin/kafka-<name>.sh) -> main class. */
export const TOOLS = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'console-producer': 'org.apache.kafka.tools.ConsoleProducer',
  'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
  configs: 'org.apache.kafka.tools.ConfigCommand',
  'log-dirs': 'org.apache.kafka.tools.LogDirsCommand',
  'delete-records': 'org.apache.kafka.tools.DeleteRecordsCommand',
  'reassign-partitions': 'org.apache.kafka.tools.reassign.ReassignPartitionsCommand',
  'leader-election': 'org.apache.kafka.tools.LeaderElectionCommand',
  'metadata-quorum': 'org.apache.kafka.tools.MetadataQuorumCommand',
  'broker-api-versions': 'org.apache.kafka.tools.BrokerApiVersionsCommand',
  transactions: 'org.apache.kafka.tools.TransactionsCommand',
  features: 'org.apache.kafka.tools.FeatureCommand',
}

const say = (message) => process.stderr.write(`[kafka] ${message}\n`)

function usage() {
  return [
    'usage: npm run kafka -- <tool> [args]   (bootstrap server: the local stack, unless given)',
    `tools: ${Object.keys(TOOLS).join(', ')}`,
    'e.g.   npm run kafka -- topics --describe --topic telemetry.meter.v1',
    '       npm run kafka -- consumer-groups --describe --group energy-writer',
  ].join('\n')
}

function kafkaVersion() {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pom, 'utf8'))
  if (!match) throw new Error('infra/kafka/pom.xml has no <kafka.version>')
  return match[1]
}

/**
 * The broker's classpath folder with the tools' jar in it, resolved as packages/localstack does (into a
 * temp folder renamed into place, marked `.complete`). A folder resolved before kafka-tools was part
 * of the pom lacks it: the jars it misses are added, and nothing it has is replaced (a broker may be
 * running on them).
 */
function ensureToolsLibs() {
  const version = kafkaVersion()
  const libs = join(cacheDir, 'kafka', version, 'libs')
  const complete = existsSync(join(libs, '.complete'))
  if (complete && existsSync(join(libs, `kafka-tools-${version}.jar`))) return libs
  mkdirSync(dirname(libs), { recursive: true })
  const staging = mkdtempSync(join(dirname(libs), 'resolving-'))
  say(`resolving Apache Kafka ${version} jars with Maven (first use only)…`)
  try {
    const mvn = spawnSync(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        pom,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${staging}`,
        '-DincludeScope=runtime',
      ],
      { stdio: ['ignore', 2, 2] },
    )
    if (mvn.error || mvn.status !== 0)
      throw new Error(`mvn failed (${mvn.error?.message ?? `exit ${mvn.status}`})`)
    if (!complete) {
      writeFileSync(join(staging, '.complete'), version)
      rmSync(libs, { recursive: true, force: true })
      renameSync(staging, libs)
      return libs
    }
    for (const jar of readdirSync(staging)) {
      if (!existsSync(join(libs, jar))) copyFileSync(join(staging, jar), join(libs, jar))
    }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
  return libs
}

/** KEY=value lines of the stack's settings file, or undefined when there is none. */
export function readStackEnv(file) {
  if (!existsSync(file)) return undefined
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line.trim()))
    .filter(Boolean)
    .map((m) => [m[1], m[2]])
  return Object.fromEntries(entries)
}

function answers(hostPort, timeoutMs = 2000) {
  const i = hostPort.lastIndexOf(':')
  return new Promise((resolve) => {
    const socket = connect({ host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) })
    const done = (ok) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** The stack's broker list, after checking that one of them answers; exits 2 with the reason if not. */
async function stackBrokers() {
  const dataDir = process.env.STACK_DATA_DIR ?? join(root, '.data')
  const file = join(dataDir, 'stack.env')
  const brokers = readStackEnv(file)?.KAFKA_BROKERS
  if (!brokers) {
    say(`no local stack: ${file} is missing (or names no KAFKA_BROKERS).`)
    say('Start one with `npm start` (STACK_DATA_DIR selects another), or pass --bootstrap-server host:port.')
    process.exit(2)
  }
  for (const broker of brokers.split(',')) if (await answers(broker)) return brokers
  say(`no broker answers at ${brokers} (from ${file}): is the stack running? Start it with \`npm start\`.`)
  process.exit(2)
}

const [tool, ...args] = process.argv.slice(2)
if (!tool || tool === '--help' || tool === 'help') {
  process.stdout.write(`${usage()}\n`)
  process.exit(tool ? 0 : 2)
}
const mainClass = TOOLS[tool]
if (!mainClass) {
  say(`unknown tool "${tool}"`)
  process.stderr.write(`${usage()}\n`)
  process.exit(2)
}
// `metadata-quorum` and `features` also take --bootstrap-controller; either flag means "given".
const given = args.some((a) => /^--bootstrap-(server|controller)(=|$)/.test(a))
const bootstrap = given ? [] : ['--bootstrap-server', await stackBrokers()]
const libs = ensureToolsLibs()
const java = spawn(
  'java',
  [
    '-Xms64m',
    '-Xmx512m',
    // Tools are short-lived: the C1 compiler alone starts them about twice as fast.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(root, 'infra', 'kafka', 'tools-log4j2.properties')}`,
    '-cp',
    `${libs}/*`,
    mainClass,
    ...bootstrap,
    ...args,
  ],
  { stdio: 'inherit' },
)
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => java.kill(signal))
java.on('error', (err) => {
  say(`cannot run java: ${err.message}`)
  process.exit(1)
})
java.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
