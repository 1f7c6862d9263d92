#!/usr/bin/env node
// Quick loopback throughput check of the gateway against a bare Fastify route, with the same
// autocannon settings, one server process at a time, against one private Kafka broker (12 partitions).
//   node services/gateway/scripts/measure-throughput.mjs [seconds=10] [batchSize=500]
// Needs `tsc -p tsconfig.build.json` in packages/contracts, packages/testenv and services/gateway.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTopics, startKafka } from '@energy-ingest/testenv'

const here = dirname(fileURLToPath(import.meta.url))
const repo = join(here, '..', '..', '..')
const seconds = Number(process.argv[2] ?? 10)
const batchSize = Number(process.argv[3] ?? 500)
const PORT = 39_411
const FLEET = 'bench-fleet-token'
const prefix = `bench${Date.now().toString(36)}.`
const start = Date.now() - 7_200_000
// Distinct timestamps too: a real batch rarely repeats one, and validation caches the last one parsed.
let tick = 0
const ts = () => new Date(start + tick++ * 1000).toISOString()

const meter = (id) => ({ meterId: id, kwhConsumedAc: 1.25, voltage: 231.4, timestamp: ts() })
const vehicle = (id) => ({ vehicleId: id, soc: 55, kwhDeliveredDc: 1.1, batteryTemp: 31.5, timestamp: ts() })
const work = mkdtempSync(join(tmpdir(), 'gw-measure-'))
const singleFile = join(work, 'single.json')
const batchFile = join(work, 'batch.json')
// Distinct device ids, so readings spread over the partitions as a real fleet's would.
writeFileSync(
  singleFile,
  JSON.stringify(Array.from({ length: 500 }, (_, i) => JSON.stringify(meter(`M-${i}`)))),
)
writeFileSync(
  batchFile,
  JSON.stringify(
    Array.from({ length: 8 }, (_, r) =>
      JSON.stringify(
        Array.from({ length: batchSize }, (_, i) => (i % 2 ? vehicle(`V-${r}-${i}`) : meter(`M-${r}-${i}`))),
      ),
    ),
  ),
)

/* global fetch */
async function waitReady() {
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${PORT}/health/ready`)
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('server not ready')
}

async function load(path, bodiesFile, connections) {
  const args = [
    join(here, 'load.mjs'),
    `http://127.0.0.1:${PORT}${path}`,
    String(connections),
    String(seconds),
  ]
  const child = spawn('node', [...args, bodiesFile, `Bearer ${FLEET}`], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  await once(child, 'exit')
  return JSON.parse(out)
}

async function run(name, cmd, args, env) {
  const server = spawn(cmd, args, {
    env: { ...process.env, ...env, PORT: String(PORT) },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  try {
    await waitReady()
    const s = await load('/v1/ingest', singleFile, 50)
    const b = await load('/v1/ingest/batch', batchFile, 10)
    return [
      { server: name, route: 'single', readingsPerS: Math.round(s.reqPerS), ...s },
      { server: name, route: `batch of ${batchSize}`, readingsPerS: Math.round(b.reqPerS * batchSize), ...b },
    ]
  } finally {
    server.kill('SIGTERM')
    await once(server, 'exit')
  }
}

const kafka = await startKafka({ partitions: 12 })
const rows = []
try {
  const topics = ['telemetry.meter.v1', 'telemetry.vehicle.v1', 'fleet.assignments.v1'].map((t) => prefix + t)
  await createTopics(kafka.brokers, topics)
  const gatewayEnv = (packing) => ({
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_PACKING: packing,
    INGEST_TOKEN_SECRET: 'bench-secret-0123456789',
    INGEST_FLEET_TOKENS: FLEET,
    LOG_LEVEL: 'warn',
    // e.g. MEASURE_ENV='{"KAFKA_MAX_IN_FLIGHT_FLUSHES":"16"}' to try another setting
    ...JSON.parse(process.env.MEASURE_ENV ?? '{}'),
  })
  const main = join(here, '..', 'dist', 'main.js')
  const only = process.env.MEASURE_ONLY?.split(',')
  const servers = [
    ['bare fastify', 'node', [join(here, 'bare-server.mjs')], {}],
    [
      'gateway packing=partition',
      'node',
      [...(process.env.PROFILE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/gwprof'] : []), main],
      gatewayEnv('partition'),
    ],
    ['gateway packing=none', 'node', [main], gatewayEnv('none')],
  ].filter(([name]) => !only || only.some((o) => name.includes(o)))
  for (const [name, cmd, args, env] of servers) rows.push(...(await run(name, cmd, args, env)))
} finally {
  await kafka.stop()
}
console.table(rows)
