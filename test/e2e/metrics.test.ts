// Prometheus' own checker on what the services export and on what the Grafana dashboard asks:
// `promtool check metrics` on each service's /metrics (after real traffic, so labelled series exist),
// `promtool check rules` on every dashboard query, `promtool check config` on the compose
// Prometheus' configuration, and every metric a query names is one the services export.
// promtool comes from Debian's prometheus package: installed with apt when missing (as root), else
// the file is skipped with the reason printed in a banner.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { topicNames } from '@energy-ingest/contracts'
import * as analytics from '@energy-ingest/analytics'
import * as gateway from '@energy-ingest/gateway'
import * as writer from '@energy-ingest/writer'
import {
  createTestDatabase,
  createTopics,
  eventually,
  repoRoot,
  testTopicPrefix,
  uniqueName,
  type TestDatabase,
} from '@energy-ingest/testenv'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

const FLEET = 'metrics-fleet-token'
const KEY = 'metrics-analytics-key'
const SERVICES = ['gateway', 'writer', 'analytics'] as const
type Service = (typeof SERVICES)[number]

/** promtool's path, installing Debian's prometheus package when it is missing and we may. */
function findPromtool(): { path: string } | { reason: string } {
  const which = () => spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).stdout.trim()
  if (which()) return { path: which() }
  if (process.getuid?.() !== 0)
    return { reason: 'promtool is not installed and this run is not root (apt-get install prometheus)' }
  if (!spawnSync('sh', ['-c', 'command -v apt-get']).stdout.length)
    return { reason: 'promtool is not installed and there is no apt-get' }
  // --no-install-recommends: not the node exporter. Policy keeps the package's service from starting.
  const apt = (args: string[]) =>
    spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=120', '-q', '-y', ...args], {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 600_000,
    })
  let result = apt(['install', '--no-install-recommends', 'prometheus'])
  if (result.status !== 0) {
    apt(['update'])
    result = apt(['install', '--no-install-recommends', 'prometheus'])
  }
  if (which()) return { path: which() }
  return {
    reason: `apt-get install prometheus failed: ${(result.stderr || result.stdout).trim().split('\n').pop()}`,
  }
}

const promtool = findPromtool()
if ('reason' in promtool) {
  const line = '#'.repeat(100)
  process.stderr.write(`\n${line}\n## SKIPPED test/e2e/metrics.test.ts: ${promtool.reason}\n${line}\n\n`)
}

function runPromtool(args: string[], input?: string) {
  const path = 'path' in promtool ? promtool.path : 'promtool'
  const r = spawnSync(path, args, { input, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() }
}

/**
 * Lint findings that come from prom-client's default process/runtime metrics, not from this project:
 * gauges whose names end in `_total` (Node's active handles/requests/resources), with or without
 * the service's prefix.
 */
const THIRD_PARTY =
  /^((gateway|writer|analytics)_)?nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/

/** Metric families of a /metrics text, by name, with their type. */
function families(text: string): Map<string, string> {
  const found = new Map<string, string>()
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) found.set(m[1]!, m[2]!)
  return found
}

/** Grafana's own variables replaced as Grafana would before sending a query. */
function asPromQl(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '30s')
    .replaceAll('$__range', '1h')
}

interface DashboardQuery {
  dashboard: string
  panel: string
  expr: string
}

function dashboardQueries(): DashboardQuery[] {
  const dir = join(repoRoot, 'infra', 'grafana', 'dashboards')
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((file) => {
      const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        panels: { title: string; targets?: { expr?: string }[] }[]
      }
      return dashboard.panels.flatMap((p) =>
        (p.targets ?? []).map((t) => ({ dashboard: file, panel: p.title, expr: t.expr ?? '' })),
      )
    })
}

describe.skipIf('reason' in promtool)(
  'promtool: service metrics, dashboard queries, Prometheus config',
  () => {
    const env = inject('testenv')
    const exported = new Map<Service, string>()
    let db: TestDatabase
    let gw: gateway.App
    let an: analytics.App
    let wr: writer.Writer
    let dir: string

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'metrics-test-'))
      const prefix = testTopicPrefix()
      const t = topicNames(prefix)
      await createTopics(env.kafkaBrokers, [t.meter, t.vehicle, t.assignments, t.dlq], 3)
      db = await createTestDatabase(env)
      const kafka = {
        KAFKA_BROKERS: env.kafkaBrokers.join(','),
        KAFKA_TOPIC_PREFIX: prefix,
        LOG_LEVEL: 'silent',
      }
      gw = await gateway.buildApp(
        gateway.loadConfig({
          ...kafka,
          INGEST_TOKEN_SECRET: 'metrics-secret-0123456789abcdef',
          INGEST_FLEET_TOKENS: FLEET,
        }),
        { logger: false },
      )
      wr = await writer.createWriter(
        writer.loadConfig({
          ...kafka,
          DATABASE_URL: db.url,
          KAFKA_GROUP_ID: uniqueName('metrics'),
          KAFKA_PARTITIONS: '3',
          WRITER_PORT: '0',
          HOST: '127.0.0.1',
        }),
      )
      await wr.start()
      an = await analytics.buildApp(
        analytics.loadConfig({ ANALYTICS_DATABASE_URL: db.replicaUrl, ANALYTICS_API_KEYS: KEY }),
        { logger: false },
      )
      // Traffic, so that labelled series exist: accepted and refused readings, a stored batch, a query.
      const at = new Date(Date.now() - 3_600_000).toISOString()
      const res = await gw.inject({
        method: 'POST',
        url: '/v1/ingest/batch',
        headers: { authorization: `Bearer ${FLEET}` },
        payload: [
          { meterId: 'PROM-M', kwhConsumedAc: 1.5, voltage: 230, timestamp: at },
          { meterId: 'PROM-M', kwhConsumedAc: -1, voltage: 230, timestamp: at },
        ],
      })
      expect(res.statusCode, res.body).toBe(202)
      await eventually(async () => (await wr.metrics.rowsInserted.get()).values.some((v) => v.value > 0), {
        timeoutMs: 30_000,
        message: 'the writer to store the reading',
      })
      await an.inject({ method: 'GET', url: '/health/ready' })
      exported.set('gateway', (await gw.inject({ method: 'GET', url: '/metrics' })).body)
      exported.set('analytics', (await an.inject({ method: 'GET', url: '/metrics' })).body)
      exported.set('writer', await (await fetch(`${wr.url()}/metrics`)).text())
    })

    afterAll(async () => {
      await gw?.close()
      await wr?.stop()
      await an?.close()
      await db?.drop()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    it.each(SERVICES)('%s: /metrics passes promtool check metrics (no finding of our own)', (service) => {
      const text = exported.get(service)!
      expect(families(text).size).toBeGreaterThan(5)
      const { out } = runPromtool(['check', 'metrics'], text)
      const ours = out
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !THIRD_PARTY.test(l))
      expect(ours).toEqual([])
    })

    it('every dashboard query parses (promtool check rules) and names only exported metrics', () => {
      const queries = dashboardQueries()
      expect(queries.length).toBeGreaterThanOrEqual(6)
      const rules = {
        groups: [
          {
            name: 'dashboard-queries',
            rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: asPromQl(q.expr) })),
          },
        ],
      }
      // JSON is YAML: promtool reads it as a rules file.
      const file = join(dir, 'dashboard-rules.yml')
      writeFileSync(file, JSON.stringify(rules, null, 2))
      const check = runPromtool(['check', 'rules', file])
      expect(check.out).toContain('SUCCESS')
      expect(check.status, check.out).toBe(0)

      const known = new Map<string, string>()
      for (const text of exported.values()) for (const [name, type] of families(text)) known.set(name, type)
      const unknown: string[] = []
      for (const q of queries) {
        const names = [...q.expr.matchAll(/\b(?:gateway|writer|analytics)_[a-z0-9_]+/g)].map((m) => m[0])
        expect(names.length, `${q.panel}: ${q.expr} names no service metric`).toBeGreaterThan(0)
        for (const name of names) {
          const family = name.replace(/_(bucket|sum|count)$/, '')
          const type = known.get(name) ?? known.get(family)
          const ok = type !== undefined && (known.has(name) || ['histogram', 'summary'].includes(type))
          if (!ok) unknown.push(`${q.dashboard} "${q.panel}": ${name}`)
        }
      }
      expect(unknown).toEqual([])
    })

    it("the compose Prometheus' configuration passes promtool check config", () => {
      const check = runPromtool(['check', 'config', join(repoRoot, 'infra', 'prometheus', 'prometheus.yml')])
      expect(check.status, check.out).toBe(0)
      expect(check.out).toContain('SUCCESS')
    })
  },
)
