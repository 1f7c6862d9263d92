// `gateway`: readings/s and latency of the gateway's single and batch endpoints, each next to a bare
// Fastify route taking the same bodies on the same machine in the same run. The ratio is the figure
// that travels between machines; the absolute rates depend on the cores the load tool shares.
import { fileURLToPath } from 'node:url'
import autocannon, { type Result } from 'autocannon'
import { availableParallelism } from 'node:os'
import { freePort } from '@energy-ingest/localstack'
import { flushCounters, perSend } from './flush-counters.js'
import type { Args } from './args.js'
import { Fleet } from './fleet.js'
import { assertLoopback } from './http.js'
import type { BenchEnvironment } from './infra.js'
import { readStackEnv } from './infra.js'
import { cpuRatio, kafkaBound, type CpuPart, type Run, type Target } from './gateway-figures.js'
import { cpuBetween, perMillion, sampleCpu } from './process-cpu.js'
import { progress, type BenchResult, type Table } from './report.js'
import { round } from './stats.js'

const CPU_PARTS: CpuPart[] = ['bench', 'bare', 'floor', 'gateway', 'kafka']

/** `load`, with the CPU each part of the machine spent per reading it accepted (Linux /proc). */
async function measured(run: () => Promise<Result>, perRequest: number) {
  const before = sampleCpu()
  const r = await run()
  const used = cpuBetween(before, sampleCpu())
  // CPU seconds per million readings are CPU µs per reading.
  const cpuUsPerReading = perMillion(used, r['2xx'] * perRequest, CPU_PARTS, 2)
  const total = [...used.values()].reduce((a, b) => a + b, 0)
  const busyShare = used.size > 0 ? round(total / (r.duration * availableParallelism()), 2) : null
  return { r, cpuUsPerReading, busyShare }
}

/** `count` distinct bodies: single readings, or arrays of `batchSize`, meters and vehicles alternating. */
function bodies(count: number, batchSize: number): string[] {
  const fleet = new Fleet({ vehicles: 5000, meters: 5000 })
  const now = Date.now()
  const pool: string[] = []
  let minute = 0
  while (pool.length < count) {
    const { meters, vehicles } = fleet.step(new Date(now - 3_600_000 + minute * 60_000), 60)
    minute++
    const readings = meters.flatMap((m, i) => [m, vehicles[i]!])
    if (batchSize === 1) {
      for (const r of readings) pool.push(JSON.stringify(r))
    } else {
      for (let i = 0; i + batchSize <= readings.length; i += batchSize) {
        pool.push(JSON.stringify(readings.slice(i, i + batchSize)))
      }
    }
  }
  return pool.slice(0, count)
}

async function load(
  url: string,
  path: string,
  pool: string[],
  token: string,
  connections: number,
  durationS: number,
): Promise<Result> {
  let next = 0
  return autocannon({
    url,
    connections,
    duration: durationS,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        setupRequest: (req) => ({ ...req, body: pool[next++ % pool.length] }),
      },
    ],
  })
}

type Endpoint = 'single' | 'batch'

interface GatewayParams {
  durationS: number
  warmupS: number
  connections: number
  batchConnections: number
  batchSize: number
  endpoints: Endpoint[]
}

function gatewayParams(args: Args): GatewayParams {
  return {
    durationS: args.num('duration', 10, 1),
    warmupS: args.num('warmup', 2, 0),
    connections: args.num('connections', 50, 1),
    batchConnections: args.num('batch-connections', 8, 1),
    batchSize: args.num('batch-size', 1000, 2),
    endpoints: (args.str('endpoints', 'single,batch').split(',') as Endpoint[]).filter(
      (e) => e === 'single' || e === 'batch',
    ),
  }
}

/** The gateway under test (the running stack's, or one started here) and a fleet token for it. */
async function gatewayTarget(
  args: Args,
  env: BenchEnvironment,
): Promise<{ gatewayUrl: string; token: string; brokers: string[] }> {
  if (args.bool('stack')) {
    const stack = readStackEnv()
    return { gatewayUrl: stack.gatewayUrl!, token: stack.fleetToken, brokers: stack.brokers ?? [] }
  }
  await env.startKafka(args.num('partitions', 12, 1))
  const gatewayUrl = await env.startGateway()
  return { gatewayUrl, token: env.fleetToken, brokers: env.brokers }
}

/** Loads the bare route, the floor, then the gateway, with the same bodies on one endpoint. */
async function runEndpoint(
  p: GatewayParams,
  endpoint: Endpoint,
  urls: Record<Target, string>,
  token: string,
): Promise<Run[]> {
  const per = endpoint === 'single' ? 1 : p.batchSize
  const pool = bodies(endpoint === 'single' ? 20_000 : 40, per)
  const path = endpoint === 'single' ? '/v1/ingest' : '/v1/ingest/batch'
  const conns = endpoint === 'single' ? p.connections : p.batchConnections
  const runs: Run[] = []
  for (const target of ['bare', 'floor', 'gateway'] as const) {
    const url = urls[target]
    if (p.warmupS > 0) await load(url, path, pool, token, conns, p.warmupS)
    progress(`${target} ${endpoint}: ${conns} connections, ${per} reading(s)/request, ${p.durationS} s…`)
    const countersBefore = await flushCounters(url)
    const { r, cpuUsPerReading, busyShare } = await measured(
      () => load(url, path, pool, token, conns, p.durationS),
      per,
    )
    const sent = perSend(countersBefore, await flushCounters(url))
    const run: Run = {
      target,
      endpoint,
      readingsPerRequest: per,
      requestsPerS: round(r['2xx'] / r.duration),
      readingsPerS: round((r['2xx'] * per) / r.duration),
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      cpuUsPerReading,
      busyShare,
      ...(sent ? { perSend: sent } : {}),
    }
    runs.push(run)
    progress(
      `  ${Math.round(run.readingsPerS)} readings/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms` +
        (run.non2xx || run.errors ? `, ${run.non2xx} non-2xx, ${run.errors} errors` : ''),
    )
  }
  return runs
}

/** readings/s of `target` over that of `base`, on one endpoint of one run. */
type Ratio = (target: Target, base: Target, endpoint: Endpoint) => number | null

/** Rates and latencies of each run, with its ratio to the bare route and the gateway's to the floor. */
function ratesTable(runs: Run[], p: GatewayParams, ratio: Ratio): Table {
  return {
    title: `gateway vs its floor vs a bare Fastify route (same bodies, same run; ${p.durationS} s each)`,
    columns: [
      'endpoint',
      'target',
      'conns',
      'readings/req',
      'req/s',
      'readings/s',
      'p50 ms',
      'p99 ms',
      'non-2xx',
      'errors',
      'vs bare',
      'vs floor',
    ],
    rows: runs.map((r) => [
      r.endpoint,
      r.target,
      r.endpoint === 'single' ? p.connections : p.batchConnections,
      r.readingsPerRequest,
      r.requestsPerS,
      r.readingsPerS,
      r.p50Ms,
      r.p99Ms,
      r.non2xx,
      r.errors,
      ratio(r.target, 'bare', r.endpoint),
      r.target === 'gateway' ? ratio('gateway', 'floor', r.endpoint) : undefined,
    ]),
  }
}

/** CPU µs per reading of each process, per run, with the Kafka bound and each run's CPU ratio. */
function cpuTable(
  runs: Run[],
  bound: (endpoint: Endpoint) => number | null,
  cpu: (run: Run) => number | null,
): Table {
  return {
    title: 'CPU µs per accepted reading, per process this bench started (from /proc)',
    columns: [
      'endpoint',
      'target',
      ...CPU_PARTS,
      'busy share',
      'Kafka bound',
      'CPU ratio',
      'readings/send',
      'messages/send',
    ],
    rows: runs.map((r) => [
      r.endpoint,
      r.target,
      ...CPU_PARTS.map((part) => r.cpuUsPerReading[part]),
      r.busyShare,
      r.target === 'gateway' ? bound(r.endpoint) : undefined,
      cpu(r),
      r.perSend?.readings,
      r.perSend?.messages,
    ]),
  }
}

function gatewayReport(p: GatewayParams, gatewayUrl: string, runs: Run[]): BenchResult {
  const find = (target: Run['target'], endpoint: Endpoint) =>
    runs.find((r) => r.target === target && r.endpoint === endpoint)
  const ratio: Ratio = (target, base, endpoint) => {
    const of = find(target, endpoint)
    const to = find(base, endpoint)
    return of && to && to.readingsPerS > 0 ? round(of.readingsPerS / to.readingsPerS, 3) : null
  }
  const bound = (endpoint: Endpoint) => kafkaBound(find('bare', endpoint), find('gateway', endpoint))
  const cpuOf = (target: Target, endpoint: Endpoint) =>
    cpuRatio(find('bare', endpoint), find(target, endpoint))
  const figures = {
    runs,
    singleRatioToBare: ratio('gateway', 'bare', 'single'),
    batchRatioToBare: ratio('gateway', 'bare', 'batch'),
    singleFloorToBare: ratio('floor', 'bare', 'single'),
    batchFloorToBare: ratio('floor', 'bare', 'batch'),
    singleRatioToFloor: ratio('gateway', 'floor', 'single'),
    batchRatioToFloor: ratio('gateway', 'floor', 'batch'),
    singleKafkaBound: bound('single'),
    batchKafkaBound: bound('batch'),
    singleFloorCpuRatio: cpuOf('floor', 'single'),
    batchFloorCpuRatio: cpuOf('floor', 'batch'),
    singleGatewayCpuRatio: cpuOf('gateway', 'single'),
    batchGatewayCpuRatio: cpuOf('gateway', 'batch'),
    gatewaySingleReadingsPerS: find('gateway', 'single')?.readingsPerS,
    gatewayBatchReadingsPerS: find('gateway', 'batch')?.readingsPerS,
  }
  const { durationS, warmupS, connections, batchConnections, batchSize } = p
  return {
    bench: 'gateway',
    params: { durationS, warmupS, connections, batchConnections, batchSize, gatewayUrl },
    figures,
    tables: [ratesTable(runs, p, ratio), cpuTable(runs, bound, (r) => cpuOf(r.target, r.endpoint))],
    notes: [
      'targets: single POSTs ≥ 0.6 of the bare route; batch ≥ 0.4 of it',
      "floor: the bare route behind the gateway's own Kafka path (client, micro-batcher, packing, " +
        'acks from every in-sync replica) and nothing else: the most a gateway on this Kafka client ' +
        'reaches here; gateway / floor is the share its own work (validation, auth, limits) leaves',
      'Kafka bound: the highest gateway / bare ratio these cores allow with the broker on them, when ' +
        "they are the limit: the bare run's CPU per reading (load tool + bare route) over itself plus " +
        "the broker's CPU per reading in the gateway run. The bench process is the load tool.",
      "CPU ratio: the bare run's CPU per reading (load tool + bare route) over the run's (load tool + " +
        'its process + the broker): the highest ratio to the bare route a path of that cost reaches ' +
        'once the cores are the limit, however many processes either side runs',
      'autocannon runs in the bench process on the same cores as the server under test',
    ],
  }
}

export async function gatewayBench(args: Args, env: BenchEnvironment): Promise<BenchResult> {
  const p = gatewayParams(args)
  const { gatewayUrl, token, brokers } = await gatewayTarget(args, env)
  assertLoopback(gatewayUrl)
  const barePort = await freePort()
  const bareUrl = await env.startProcess(
    'bare-fastify',
    fileURLToPath(new URL('./bare-server.js', import.meta.url)),
    { PORT: String(barePort) },
    barePort,
  )
  const floorPort = await freePort()
  const floorUrl = await env.startProcess(
    'kafka-floor',
    fileURLToPath(new URL('./kafka-floor-server.js', import.meta.url)),
    { PORT: String(floorPort), KAFKA_BROKERS: brokers.join(',') },
    floorPort,
  )
  const runs: Run[] = []
  for (const endpoint of p.endpoints) {
    runs.push(
      ...(await runEndpoint(p, endpoint, { bare: bareUrl, floor: floorUrl, gateway: gatewayUrl }, token)),
    )
  }
  return gatewayReport(p, gatewayUrl, runs)
}
