#!/usr/bin/env node
// How fast the gateway refuses hostile batch bodies, and how the event loop fares meanwhile: a 4 MiB
// NDJSON body of 2 M junk lines and a JSON array of 2 M items, sent over loopback HTTP while a
// /health/live probe runs every 5 ms. No broker is needed: these bodies never reach Kafka.
//   node services/gateway/scripts/measure-batch-refusal.mjs [runs=5]
// Needs `tsc -p tsconfig.build.json` in packages/contracts, packages/service-kit and services/gateway.
import { Agent, request } from 'node:http'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { buildApp, loadConfig } from '@energy-ingest/gateway'

const runs = Number(process.argv[2] ?? 5)
const FLEET = 'measure-fleet-token'
const config = loadConfig({
  INGEST_DEV_MODE: 'true',
  INGEST_FLEET_TOKENS: FLEET,
  KAFKA_BROKERS: '127.0.0.1:9',
  LOG_LEVEL: 'silent',
  METRICS_PROCESS: 'false',
})
const app = await buildApp(config)
await app.listen({ host: '127.0.0.1', port: 0 })
const { port } = app.server.address()
const agent = new Agent({ keepAlive: true })

function send(method, path, headers, body) {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = request(
      { port, host: '127.0.0.1', method, path, headers, agent: body ? false : agent },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c) => (text += c))
        res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started, text }))
      },
    )
    req.on('error', (err) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)))
    req.end(body)
  })
}

async function measure(name, contentType, body) {
  const refusals = []
  const probes = []
  const loop = monitorEventLoopDelay({ resolution: 1 })
  for (let run = 0; run < runs; run++) {
    let done = false
    const probing = (async () => {
      while (!done) {
        probes.push((await send('GET', '/health/live', {})).ms)
        await new Promise((r) => setTimeout(r, 5))
      }
    })()
    loop.enable()
    const answer = await send(
      'POST',
      '/v1/ingest/batch',
      { authorization: `Bearer ${FLEET}`, 'content-type': contentType, 'content-length': body.length },
      body,
    )
    loop.disable()
    done = true
    await probing
    refusals.push(answer.ms)
    if (run === 0) console.log(`${name}: ${answer.status} ${answer.text.slice(0, 100)}…`)
  }
  const sorted = (xs) => [...xs].sort((a, b) => a - b)
  const p = (xs, q) => sorted(xs)[Math.min(xs.length - 1, Math.floor(q * xs.length))].toFixed(1)
  console.log(
    `  refused in p50 ${p(refusals, 0.5)} ms, max ${p(refusals, 1)} ms (${runs} runs, ${(body.length / 1048576).toFixed(1)} MiB sent)` +
      `; probes: ${probes.length}, p50 ${p(probes, 0.5)} ms, max ${p(probes, 1)} ms` +
      `; event-loop delay max ${(loop.max / 1e6).toFixed(1)} ms`,
  )
}

await send('GET', '/health/live', {})
await measure('NDJSON, 2 M junk lines', 'application/x-ndjson', Buffer.from('x\n'.repeat(2 * 1024 * 1024)))
await measure('JSON array, 2 M items', 'application/json', Buffer.from(`[${'1,'.repeat(2 * 1024 * 1024)}1]`))
agent.destroy()
await app.close()
