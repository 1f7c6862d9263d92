// `batch-refusal`: how fast the gateway refuses hostile batch bodies the size of its body limit (a
// 4 MiB NDJSON body of 2 M junk lines, a JSON array of 2 M items), and how it answers meanwhile: a
// /health/live probe runs every 5 ms while each body is sent, and the gateway's own event-loop delay
// (its process metrics) is read after each run. The gateway is its built service (dist/main.js) in its
// own process, on a private broker: it reports ready only with Kafka, though these bodies never reach it.
import { Agent, request } from 'node:http'
import { performance } from 'node:perf_hooks'
import { setTimeout as delay } from 'node:timers/promises'
import type { Args } from './args.js'
import { assertLoopback } from './http.js'
import type { BenchEnvironment } from './infra.js'
import { progress, type BenchResult } from './report.js'
import { Samples, round, type LatencySummary } from './stats.js'

const MIB = 1024 * 1024
const PROBE_EVERY_MS = 5

interface Answer {
  status: number
  ms: number
  text: string
}

/**
 * One request over loopback. A body write the server cuts short by answering early (EPIPE,
 * ECONNRESET) is not a failure: the answer still comes. Bodies go on a connection of their own.
 */
function send(
  base: URL,
  path: string,
  agent: Agent,
  post?: { headers: Record<string, string | number>; body: Buffer },
) {
  const started = performance.now()
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        method: post ? 'POST' : 'GET',
        path,
        headers: post?.headers ?? {},
        agent: post ? false : agent,
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (text += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, text }))
        res.on('error', reject)
      },
    )
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err)
    })
    req.end(post?.body)
  })
}

interface Hostile {
  name: string
  contentType: string
  body: Buffer
}

const hostileBodies = (): Hostile[] => [
  {
    name: 'NDJSON, 2 M junk lines',
    contentType: 'application/x-ndjson',
    body: Buffer.from('x\n'.repeat(2 * MIB)),
  },
  {
    name: 'JSON array, 2 M items',
    contentType: 'application/json',
    body: Buffer.from(`[${'1,'.repeat(2 * MIB)}1]`),
  },
]

/**
 * The gateway's largest event-loop delay (ms) since the previous call: prom-client resets its
 * histogram on every scrape of /metrics (10 ms resolution).
 */
async function loopDelayMaxMs(base: URL, agent: Agent): Promise<number> {
  const { text } = await send(base, '/metrics', agent)
  const value = /^gateway_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1]
  return value === undefined ? Number.NaN : Number(value) * 1000
}

interface Row {
  body: string
  status: number
  answer: string
  mib: number
  refusal: LatencySummary
  probes: LatencySummary
  loopDelayMaxMs: number
}

/** `runs` refusals of `hostile`, each with the probe running beside it. */
async function measure(base: URL, token: string, hostile: Hostile, runs: number, agent: Agent): Promise<Row> {
  const refusals = new Samples()
  const probes = new Samples()
  let loopMax = 0
  let first: Answer | undefined
  const headers = {
    authorization: `Bearer ${token}`,
    'content-type': hostile.contentType,
    'content-length': hostile.body.length,
  }
  for (let run = 0; run < runs; run++) {
    await loopDelayMaxMs(base, agent) // starts the gateway's delay histogram afresh
    let done = false
    const probing = (async () => {
      while (!done) {
        probes.add((await send(base, '/health/live', agent)).ms)
        await delay(PROBE_EVERY_MS)
      }
    })()
    const answer = await send(base, '/v1/ingest/batch', agent, { headers, body: hostile.body })
    done = true
    await probing
    loopMax = Math.max(loopMax, await loopDelayMaxMs(base, agent))
    refusals.add(answer.ms)
    first ??= answer
  }
  return {
    body: hostile.name,
    status: first?.status ?? 0,
    answer: `${(first?.text ?? '').slice(0, 100)}…`,
    mib: round(hostile.body.length / MIB, 1),
    refusal: refusals.summary(),
    probes: probes.summary(),
    loopDelayMaxMs: round(loopMax, 1),
  }
}

export async function batchRefusal(args: Args, env: BenchEnvironment): Promise<BenchResult> {
  const runs = args.num('runs', 5, 1)
  await env.startKafka(1)
  const gatewayUrl = await env.startGateway()
  assertLoopback(gatewayUrl)
  const base = new URL(gatewayUrl)
  const agent = new Agent({ keepAlive: true })
  const rows: Row[] = []
  try {
    await send(base, '/health/live', agent)
    for (const hostile of hostileBodies()) {
      progress(`${hostile.name}: ${runs} runs…`)
      const row = await measure(base, env.fleetToken, hostile, runs, agent)
      progress(`  ${row.status} ${row.answer}`)
      rows.push(row)
    }
  } finally {
    agent.destroy()
  }
  return {
    bench: 'batch-refusal',
    params: { runs, probeEveryMs: PROBE_EVERY_MS, gatewayUrl },
    figures: { rows },
    tables: [
      {
        title: `hostile batch bodies refused (${runs} runs each; /health/live probed every ${PROBE_EVERY_MS} ms)`,
        columns: [
          'body',
          'MiB',
          'status',
          'refused p50 ms',
          'max ms',
          'probes',
          'probe p50 ms',
          'max ms',
          'loop delay max ms',
        ],
        rows: rows.map((r) => [
          r.body,
          r.mib,
          r.status,
          r.refusal.p50,
          r.refusal.max,
          r.probes.count,
          r.probes.p50,
          r.probes.max,
          r.loopDelayMaxMs,
        ]),
      },
    ],
    notes: [
      'refused: from the first byte sent to the whole answer; each body on a connection of its own',
      "loop delay: the gateway's own event-loop delay during the runs (its process metrics, 10 ms resolution)",
    ],
  }
}
