// The Docker objects (containers, networks, volumes) that @energy-ingest/testenv creates carry two
// labels: energy-ingest.testenv=<run id> and energy-ingest.testenv.owner=<hostname>/<pid>. This file
// removes them by label, without testcontainers' reaper (Ryuk), whose image may not be pullable. Plain
// JS on Node's http (no build; its one dependency is localstack's plain-JS process-alive.cjs), because
// three kinds of callers use it:
//   - testenv (containers.ts) at the end of a run, and at its start for runs whose owner died;
//   - the detached watchdog (packages/localstack/reaper.cjs, through a clean-up hook testenv registers)
//     when the test process dies without cleaning up;
//   - CI, before and after the containers suite:
//       node packages/testenv/docker-cleanup.cjs all|stale|run <id>
// The engine: DOCKER_HOST (unix:///path or tcp://host:port, no TLS), default /var/run/docker.sock.
'use strict'
const http = require('node:http')
const os = require('node:os')
const { alive } = require('@energy-ingest/localstack/process-alive.cjs')

const RUN_LABEL = 'energy-ingest.testenv'
const OWNER_LABEL = 'energy-ingest.testenv.owner'

/** @typedef {{ socketPath?: string, host?: string, port?: number }} Endpoint */

/** @returns {Endpoint} */
function endpointFromEnv(env = process.env) {
  const value = env.DOCKER_HOST || 'unix:///var/run/docker.sock'
  if (value.startsWith('unix://')) return { socketPath: value.slice('unix://'.length) }
  const url = new URL(value.replace(/^tcp:/, 'http:'))
  return { host: url.hostname, port: Number(url.port || 2375) }
}

/** @returns {Promise<{ status: number, body: any }>} */
function request(endpoint, method, path, body) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const req = http.request(
      {
        ...endpoint,
        method,
        path,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
        timeout: 60_000,
      },
      (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString()
          let parsed = text
          try {
            parsed = text ? JSON.parse(text) : undefined
          } catch {
            /* plain text */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed })
        })
      },
    )
    req.on('timeout', () => req.destroy(new Error(`docker ${method} ${path}: timed out`)))
    req.on('error', reject)
    req.end(payload)
  })
}

async function call(endpoint, method, path, body, okStatuses = [200, 201, 204, 304]) {
  const res = await request(endpoint, method, path, body)
  if (!okStatuses.includes(res.status)) {
    const message = res.body && typeof res.body === 'object' ? res.body.message : res.body
    throw new Error(`docker ${method} ${path}: ${res.status} ${message ?? ''}`.trim())
  }
  return res.body
}

const filters = (labels) => encodeURIComponent(JSON.stringify({ label: labels }))

/** The labels of an object created by this process for run `run`. */
function labelsFor(run) {
  return { [RUN_LABEL]: run, [OWNER_LABEL]: `${os.hostname()}/${process.pid}` }
}

async function createNetwork(endpoint, name, labels) {
  await call(endpoint, 'POST', '/networks/create', { Name: name, CheckDuplicate: true, Labels: labels })
}

async function createVolume(endpoint, name, labels) {
  await call(endpoint, 'POST', '/volumes/create', { Name: name, Labels: labels })
}

/** start | stop | kill | restart; stop waits up to `seconds` before SIGKILL. */
async function containerAction(endpoint, id, action, seconds = 20) {
  const query = action === 'stop' || action === 'restart' ? `?t=${seconds}` : ''
  await call(endpoint, 'POST', `/containers/${id}/${action}${query}`, undefined, [204, 304])
}

/** Whether the container runs, and its exit code once it has exited. */
async function containerState(endpoint, id) {
  const body = await call(endpoint, 'GET', `/containers/${id}/json`)
  return { running: Boolean(body.State.Running), exitCode: body.State.Running ? null : body.State.ExitCode }
}

/** Removes every container (with its anonymous volumes), network and volume matching the labels. */
async function removeByLabels(endpoint, labels) {
  const removed = { containers: 0, networks: 0, volumes: 0 }
  const f = filters(labels)
  for (const c of await call(endpoint, 'GET', `/containers/json?all=1&filters=${f}`)) {
    await call(endpoint, 'DELETE', `/containers/${c.Id}?force=1&v=1`, undefined, [204, 404, 409])
    removed.containers++
  }
  for (const n of await call(endpoint, 'GET', `/networks?filters=${f}`)) {
    await call(endpoint, 'DELETE', `/networks/${n.Id}`, undefined, [204, 404])
    removed.networks++
  }
  const { Volumes } = await call(endpoint, 'GET', `/volumes?filters=${f}`)
  for (const v of Volumes ?? []) {
    await call(endpoint, 'DELETE', `/volumes/${encodeURIComponent(v.Name)}?force=1`, undefined, [204, 404])
    removed.volumes++
  }
  return removed
}

const removeRun = (endpoint, run) => removeByLabels(endpoint, [`${RUN_LABEL}=${run}`])
const removeAll = (endpoint) => removeByLabels(endpoint, [RUN_LABEL])

/** Removes the runs whose owner was a process of this host that no longer exists. */
async function removeStale(endpoint) {
  const f = filters([RUN_LABEL])
  const objects = [
    ...(await call(endpoint, 'GET', `/containers/json?all=1&filters=${f}`)).map((c) => c.Labels),
    ...(await call(endpoint, 'GET', `/networks?filters=${f}`)).map((n) => n.Labels),
    ...((await call(endpoint, 'GET', `/volumes?filters=${f}`)).Volumes ?? []).map((v) => v.Labels),
  ]
  const stale = new Set()
  for (const labels of objects) {
    const [host, pid] = String(labels?.[OWNER_LABEL] ?? '').split('/')
    if (host === os.hostname() && pid && !alive(Number(pid))) stale.add(labels[RUN_LABEL])
  }
  const removed = { containers: 0, networks: 0, volumes: 0, runs: stale.size }
  for (const run of stale) {
    const r = await removeRun(endpoint, run)
    removed.containers += r.containers
    removed.networks += r.networks
    removed.volumes += r.volumes
  }
  return removed
}

module.exports = {
  RUN_LABEL,
  OWNER_LABEL,
  endpointFromEnv,
  labelsFor,
  createNetwork,
  createVolume,
  containerAction,
  containerState,
  removeRun,
  removeAll,
  removeStale,
}

if (require.main === module) {
  const [what, run] = process.argv.slice(2)
  const endpoint = endpointFromEnv()
  const job =
    what === 'all'
      ? removeAll(endpoint)
      : what === 'stale'
        ? removeStale(endpoint)
        : what === 'run' && run
          ? removeRun(endpoint, run)
          : Promise.reject(new Error('usage: docker-cleanup.cjs all|stale|run <id>'))
  job.then(
    (r) => console.log(`testenv docker cleanup (${what}): ${JSON.stringify(r)}`),
    (err) => {
      console.error(`testenv docker cleanup (${what}) failed: ${err.message}`)
      process.exit(1)
    },
  )
}
