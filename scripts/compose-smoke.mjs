#!/usr/bin/env node
// Compose smoke test (CI, not part of npm test): the whole topology of docker-compose.yml up and
// healthy, readings posted through the gateway, exact numbers read back from analytics, Prometheus
// scraping every service, then `down -v`. Uses the images already built (.ci/build-images.sh) and the engine of DOCKER_HOST.
//   node scripts/compose-smoke.mjs [--project energy-smoke] [--keep]
// Secrets: a fresh random set in .cache/compose-smoke.env (0600) for each run; host ports: free ones.
import { execFileSync, spawnSync } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { composeSecrets, writeComposeEnv } from './compose-env.mjs'
import { waitForTargetsUp } from './compose-prometheus.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const project = args.includes('--project') ? args[args.indexOf('--project') + 1] : 'energy-smoke'
const keep = args.includes('--keep')
const started = Date.now()
const MIN = 60_000

const log = (message) => process.stderr.write(`[compose-smoke] ${message}\n`)
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`

async function freePort() {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

const envFile = join(root, '.cache', 'compose-smoke.env')
mkdirSync(dirname(envFile), { recursive: true })
rmSync(envFile, { force: true })
const secrets = composeSecrets()
writeComposeEnv(envFile, secrets)
const ports = { gateway: await freePort(), analytics: await freePort(), prometheus: await freePort() }
const composeEnv = {
  ...process.env,
  GATEWAY_PORT: String(ports.gateway),
  ANALYTICS_PORT: String(ports.analytics),
  PROMETHEUS_PORT: String(ports.prometheus),
  LOG_LEVEL: 'warn',
}

function compose(composeArgs, options = {}) {
  const full = [
    'compose',
    '-p',
    project,
    '--env-file',
    envFile,
    '-f',
    join(root, 'docker-compose.yml'),
    ...composeArgs,
  ]
  const result = spawnSync('docker', full, {
    cwd: root,
    env: composeEnv,
    encoding: 'utf8',
    stdio: options.capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    timeout: options.timeoutMs ?? 15 * MIN,
  })
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(`docker ${full.join(' ')} failed (${result.status}): ${result.stderr ?? ''}`)
  }
  return result.stdout ?? ''
}

async function eventually(fn, { timeoutMs = 120_000, intervalMs = 500, message }) {
  const deadline = Date.now() + timeoutMs
  let last
  for (;;) {
    try {
      const value = await fn()
      if (value) return value
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${message}${last ? `: ${last.message}` : ''}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`)
  log(`ok: ${message}`)
}

const fleet = secrets.INGEST_FLEET_TOKENS
const apiKey = secrets.ANALYTICS_API_KEYS
const gatewayUrl = `http://127.0.0.1:${ports.gateway}`
const analyticsUrl = `http://127.0.0.1:${ports.analytics}`

async function post(path, body, token = fleet) {
  const res = await globalThis.fetch(`${gatewayUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (res.status !== 202) throw new Error(`POST ${path}: ${res.status} ${text}`)
  return JSON.parse(text)
}

async function analytics(path) {
  const res = await globalThis.fetch(`${analyticsUrl}${path}`, {
    headers: { authorization: `Bearer ${apiKey}` },
  })
  return { status: res.status, body: await res.json() }
}

function sameJson(actual, expected) {
  return JSON.stringify(actual) === JSON.stringify(expected)
}

let failed = false
try {
  // --- up -------------------------------------------------------------------------------------
  log(`docker compose -p ${project} up --wait (gateway :${ports.gateway}, analytics :${ports.analytics})`)
  compose(['down', '-v', '--remove-orphans'], { allowFailure: true, capture: true })
  let t = Date.now()
  compose(['up', '-d', '--wait', '--wait-timeout', '900', '--pull', 'never', '--no-build'])
  log(`topology healthy in ${seconds(t)}`)

  const ps = compose(['ps', '--all', '--format', 'json'], { capture: true })
  const containers = ps
    .trim()
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => [JSON.parse(line)].flat())
  const byService = (name) => containers.filter((c) => c.Service === name)
  for (const oneShot of ['pg-init', 'migrate', 'kafka-topics']) {
    const [c] = byService(oneShot)
    check(c?.State === 'exited' && c.ExitCode === 0, `one-shot ${oneShot} completed (exit 0)`)
  }
  for (const service of ['pg-primary', 'pg-replica', 'kafka', 'gateway', 'analytics', 'prometheus']) {
    const [c] = byService(service)
    check(c?.State === 'running' && c.Health === 'healthy', `${service} running and healthy`)
  }
  const writers = byService('writer')
  check(
    writers.length === 2 && writers.every((c) => c.State === 'running' && c.Health === 'healthy'),
    'two writers running and healthy',
  )
  const published = containers
    .flatMap((c) => c.Publishers ?? [])
    .filter((p) => p.PublishedPort)
    .map((p) => `${p.URL === '127.0.0.1' ? 'loopback:' : ''}${p.TargetPort}`)
  check(
    sameJson([...new Set(published)].sort(), ['3000', '3001', 'loopback:9090']),
    `only the gateway, analytics and (on 127.0.0.1) Prometheus are published, not Kafka or PostgreSQL (${published})`,
  )
  const running = containers.filter((c) => c.State === 'running').map((c) => c.ID)
  const restart = execFileSync(
    'docker',
    ['inspect', '--format', '{{.HostConfig.RestartPolicy.Name}}', ...running],
    { encoding: 'utf8' },
  )
    .trim()
    .split('\n')
  check(
    restart.length === 8 && restart.every((policy) => policy === 'unless-stopped'),
    `every long-running container restarts unless stopped (${restart})`,
  )

  // --- roles ------------------------------------------------------------------------------------
  // Through the analytics container (it has Node and pg): its role may read the replica, not write
  // the primary; the writer's role owns the tables but is no superuser.
  const probe = `
    const pg = require('pg')
    const run = async (url, sql) => { const c = new pg.Client({ connectionString: url }); await c.connect()
      try { return (await c.query(sql)).rows } catch (e) { return { code: e.code } } finally { await c.end() } }
    const replica = process.env.ANALYTICS_DATABASE_URL
    const primary = replica.replace('@pg-replica:', '@pg-primary:')
    ;(async () => console.log(JSON.stringify({
      read: await run(replica, 'SELECT count(*)::int AS n FROM meter_live'),
      writePrimary: await run(primary, "INSERT INTO meter_live (meter_id) VALUES ('x')"),
      ddlPrimary: await run(primary, 'CREATE TABLE smoke_probe (id int)'),
      roles: await run(primary, "SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'energy_%' ORDER BY 1"),
    })))()`
  const roles = JSON.parse(
    compose(['exec', '-T', '-w', '/app/services/analytics', 'analytics', 'node', '-e', probe], {
      capture: true,
    }),
  )
  check(Array.isArray(roles.read), 'the analytics role reads the replica')
  check(roles.writePrimary.code === '25006', 'the analytics role cannot write on the primary (read-only)')
  check(['25006', '42501'].includes(roles.ddlPrimary.code), 'the analytics role cannot create tables')
  check(
    sameJson(roles.roles, [
      { rolname: 'energy_analytics', rolsuper: false },
      { rolname: 'energy_writer', rolsuper: false },
    ]),
    'energy_writer and energy_analytics exist and are not superusers',
  )

  // --- readings in, exact numbers out ---------------------------------------------------------------
  t = Date.now()
  const now = Date.now()
  const at = (minutesAgo) => new Date(now - minutesAgo * MIN).toISOString()
  // Values with 3 decimals: the expected totals are integer thousandths, so JS arithmetic is exact.
  const vehicle = [
    { vehicleId: 'SMOKE-EV', soc: 40, kwhDeliveredDc: 1.234, batteryTemp: 30.5, timestamp: at(300) },
    { vehicleId: 'SMOKE-EV', soc: 45, kwhDeliveredDc: 2.5, batteryTemp: 31.25, timestamp: at(200) },
    { vehicleId: 'SMOKE-EV', soc: 52, kwhDeliveredDc: 0.875, batteryTemp: 32, timestamp: at(100) },
  ]
  const meter = [
    { meterId: 'SMOKE-M', kwhConsumedAc: 1.5, voltage: 230, timestamp: at(300) },
    { meterId: 'SMOKE-M', kwhConsumedAc: 2.75, voltage: 231, timestamp: at(200) },
    { meterId: 'SMOKE-M', kwhConsumedAc: 1.125, voltage: 229, timestamp: at(100) },
  ]
  await post('/v1/assignments', { vehicleId: 'SMOKE-EV', meterId: 'SMOKE-M', validFrom: at(2 * 24 * 60) })
  await post('/v1/ingest/batch', [...vehicle, meter[0], meter[1]])
  // The last meter reading with the meter's own device token (HMAC of "meter:SMOKE-M" with the secret).
  const deviceToken = createHmac('sha256', secrets.INGEST_TOKEN_SECRET)
    .update('meter:SMOKE-M')
    .digest('base64url')
  await post('/v1/ingest', meter[2], deviceToken)
  // A duplicate, which must not count twice.
  await post('/v1/ingest', { ...vehicle[1], type: 'vehicle' })
  log(`posted 7 readings through the gateway`)

  const performance = await eventually(
    async () => {
      const r = await analytics('/v1/analytics/performance/SMOKE-EV')
      const readings = r.body.readings
      return r.status === 200 && readings?.vehicle === 3 && readings?.meter === 3 ? r.body : undefined
    },
    { timeoutMs: 120_000, message: 'SMOKE-EV readings to reach analytics (writer -> primary -> replica)' },
  )
  log(`readings visible in analytics after ${seconds(t)}`)
  const expected = {
    vehicleId: 'SMOKE-EV',
    meterIds: ['SMOKE-M'],
    totalDcDelivered: 4609 / 1000,
    totalAcConsumed: 5375 / 1000,
    efficiencyRatio: 4609 / 1000 / (5375 / 1000),
    avgBatteryTemp: 93750 / 1000 / 3,
    readings: { vehicle: 3, meter: 3 },
  }
  for (const [key, value] of Object.entries(expected)) {
    check(sameJson(performance[key], value), `performance.${key} = ${JSON.stringify(value)}`)
  }
  const live = await analytics('/v1/meters/SMOKE-M/live')
  check(
    live.status === 200 && live.body.kwhConsumedAc === 1.125 && live.body.voltage === 229,
    'the meter live view holds its latest reading',
  )
  const refused = await globalThis.fetch(`${analyticsUrl}/v1/analytics/performance/SMOKE-EV`)
  check(refused.status === 401, 'analytics refuses a request without its API key')

  // --- metrics -----------------------------------------------------------------------------------
  const targets = await waitForTargetsUp(
    `http://127.0.0.1:${ports.prometheus}`,
    { gateway: 1, writer: 2, analytics: 1 },
    2 * MIN,
  )
  check(true, `Prometheus scrapes every service and each is up (${JSON.stringify(targets)})`)
} catch (err) {
  failed = true
  log(`FAILED: ${err.message}`)
  const logs = compose(['logs', '--no-color', '--tail', '40'], { capture: true, allowFailure: true })
  process.stderr.write(logs)
} finally {
  if (keep) {
    log(`--keep: left running (docker compose -p ${project} down -v to remove)`)
  } else {
    const t = Date.now()
    compose(['down', '-v', '--remove-orphans'], { allowFailure: true, capture: true })
    const left = execFileSync(
      'docker',
      ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`],
      { encoding: 'utf8' },
    ).trim()
    const volumes = execFileSync(
      'docker',
      ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`],
      { encoding: 'utf8' },
    ).trim()
    if (left || volumes) {
      failed = true
      log(`down -v left containers [${left}] volumes [${volumes}]`)
    } else log(`down -v: nothing left (${seconds(t)})`)
  }
  rmSync(envFile, { force: true })
}
log(`${failed ? 'FAILED' : 'passed'} in ${seconds(started)}`)
process.exit(failed ? 1 : 0)
