// The dashboard in a real browser: Debian's Chromium, headless, driven by playwright-core, against
// analytics listening on a port, over a fleet written through the writer's storage path
// (packages/db). Checks that the tiles show the API's numbers, the charts drew the API's series, the
// alerts sort, page and open a vehicle, a wrong key gets a clear message and old data a warning.
// Screenshots go to .cache/screenshots/ (git-ignored).
import { spawnSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  ensureMonths,
  setRollupMode,
  upsertAssignments,
  withTransaction,
  writeMeterBatch,
  writeVehicleBatch,
} from '@energy-ingest/db'
import type { MeterRow, VehicleRow } from '@energy-ingest/db'
import { createTestDatabase, repoRoot, waitForReplica, type TestDatabase } from '@energy-ingest/testenv'
import { buildApp, type App } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { CHROMIUM_ARGS, ensureChromium, freshUserDataDir } from './chromium.js'
import { DAY, HOUR } from './fixtures.js'

const env = inject('testenv')
const KEY = 'dashboard-key'
/** The service's clock; the browser keeps its own (freshness compares asOf with it, as in real use). */
const NOW = Date.parse('2026-06-15T12:00:30.000Z')
const TZ = 'Europe/Berlin'
const SHOTS = join(repoRoot, '.cache', 'screenshots')
/** Vehicle i charges at EFFICIENCY[i]: 12 of 14 are below the 0.85 threshold (two alert pages). */
const EFFICIENCY = [0.95, 0.9, 0.84, 0.83, 0.82, 0.8, 0.78, 0.75, 0.72, 0.7, 0.68, 0.65, 0.6, 0.5]

const browserCheck = ensureChromium()
if ('skip' in browserCheck) console.warn(`\n[dashboard test] SKIPPED: ${browserCheck.skip}\n`)

let db: TestDatabase
let app: App
let base: string
let context: BrowserContext
let page: Page
let userDataDir: string

/** One reading every 10 min for 8 days: DC = AC x efficiency, AC from the meter of the same id. */
async function seed(url: string): Promise<void> {
  const meters: MeterRow[] = []
  const vehicles: VehicleRow[] = []
  const start = Math.floor(NOW / HOUR) * HOUR - 8 * DAY
  EFFICIENCY.forEach((eff, i) => {
    const id = `EV-${String(i + 1).padStart(2, '0')}`
    // EV-14 charges from a charger with its own id, through an assignment.
    const meterId = i === 13 ? 'CHARGER-14' : id
    for (let t = start + i * 60_000, k = 0; t < NOW; t += 10 * 60_000, k++) {
      const ac = ((k % 7) + 3) / 4 // 0.75 .. 2.25 kWh
      const timestamp = new Date(t).toISOString()
      meters.push({ meterId, timestamp, kwhConsumedAc: ac, voltage: 228 + (k % 5) })
      vehicles.push({
        vehicleId: id,
        timestamp,
        soc: 20 + ((k * 3) % 75),
        kwhDeliveredDc: Math.round(ac * eff * 1000) / 1000,
        batteryTemp: 24 + ((k + i) % 11) / 2,
      })
    }
  })
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await ensureMonths(client, ['meter', 'vehicle'], [new Date(start), new Date(NOW)])
    // Every reading folded into the hourly rollups as it is written (the alerts read closed hours).
    for (const kind of ['meter', 'vehicle'] as const) await setRollupMode(client, kind, { perBatch: true })
    await withTransaction(client, () =>
      upsertAssignments(client, [
        { vehicleId: 'EV-14', meterId: 'CHARGER-14', validFrom: new Date(start - DAY).toISOString() },
      ]),
    )
    for (let i = 0; i < meters.length; i += 2_000) await writeMeterBatch(client, meters.slice(i, i + 2_000))
    for (let i = 0; i < vehicles.length; i += 2_000)
      await writeVehicleBatch(client, vehicles.slice(i, i + 2_000))
  } finally {
    await client.end()
  }
}

async function api<T>(path: string): Promise<T> {
  const res = await app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${KEY}` } })
  expect(res.statusCode, `${path}: ${res.body}`).toBe(200)
  return res.json() as T
}

interface Point {
  start: string
  totalAcConsumed: number
  totalDcDelivered: number
  efficiencyRatio: number | null
}

const tileValue = (scope: string, id: string) =>
  page.locator(`${scope} [data-tile="${id}"]`).getAttribute('data-value')

/** What a chart recorded when uPlot drew it: x count and non-null values per series. */
async function drawn(selector: string): Promise<{ points: number; drawn: number[] }> {
  const el = page.locator(selector)
  await el.locator('canvas').waitFor()
  // (The page's DOM types are not in this project's lib: the condition is evaluated as a string.)
  await page.waitForFunction(
    `document.querySelector(${JSON.stringify(selector)})?.dataset.drawn !== undefined`,
  )
  const box = await el.locator('canvas').boundingBox()
  expect(box!.width).toBeGreaterThan(100)
  return {
    points: Number(await el.getAttribute('data-points')),
    drawn: (await el.getAttribute('data-drawn'))!.split(',').map(Number),
  }
}

const nonNull = (xs: (number | null)[]) => xs.filter((x) => x !== null).length
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })

describe.skipIf('skip' in browserCheck)('dashboard in Chromium', () => {
  beforeAll(async () => {
    // The page's assets come from the build (npm test builds first); build them here too, so running
    // this file alone tests the current sources.
    const built = spawnSync(
      process.execPath,
      [join(repoRoot, 'services/analytics/scripts/build-dashboard.mjs')],
      {
        encoding: 'utf8',
      },
    )
    expect(built.status, built.stderr).toBe(0)
    mkdirSync(SHOTS, { recursive: true })
    db = await createTestDatabase(env)
    await seed(db.url)
    await waitForReplica(env.primaryUrl, env.replicaUrl)
    app = await buildApp(loadConfig({ ANALYTICS_DATABASE_URL: db.replicaUrl, ANALYTICS_API_KEYS: KEY }), {
      logger: false,
      now: () => NOW,
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    userDataDir = freshUserDataDir()
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: (browserCheck as { path: string }).path,
      args: CHROMIUM_ARGS,
      headless: true,
      timezoneId: TZ,
      locale: 'en-GB',
      viewport: { width: 1280, height: 900 },
    })
    page = context.pages()[0] ?? (await context.newPage())
    page.setDefaultTimeout(30_000)
  }, 600_000)

  afterAll(async () => {
    await context?.close()
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true })
    await app?.close()
    await db?.drop()
  })

  it('asks for the key and says clearly when it is wrong', async () => {
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(String(e)))
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().includes('401')) errors.push(m.text())
    })
    await page.goto(`${base}/dashboard`)
    await expect
      .poll(() => page.evaluate('document.activeElement && document.activeElement.id'))
      .toBe('api-key')
    await page.keyboard.type('not-the-key')
    await page.keyboard.press('Enter')
    await expect
      .poll(() => page.locator('#key-error').textContent())
      .toBe('The API key was refused (authorization: unknown API key). Check it and enter it again.')
    await shot('dashboard-wrong-key')
    expect(errors).toEqual([]) // no script error, no CSP violation
  })

  it('fleet page: tiles show the API numbers, the charts draw the hourly series', async () => {
    await page.getByLabel('API key').fill(KEY)
    await page.getByRole('button', { name: 'Open dashboard' }).click()
    await page.locator('#fleet-tiles').waitFor()
    const summary = await api<{
      windowEnd: string
      asOf: string
      meters: { active: number; totalAcConsumed: number }
      vehicles: { active: number; totalDcDelivered: number; avgBatteryTemp: number }
      fleetEfficiencyRatio: number
      vehiclesBelowThreshold: number
    }>('/v1/analytics/fleet/summary')
    expect(summary.vehiclesBelowThreshold).toBe(12)
    const expected: Record<string, string> = {
      metersActive: String(summary.meters.active),
      vehiclesActive: String(summary.vehicles.active),
      ac: String(summary.meters.totalAcConsumed),
      dc: String(summary.vehicles.totalDcDelivered),
      efficiency: String(summary.fleetEfficiencyRatio),
      temp: String(summary.vehicles.avgBatteryTemp),
      below: '12',
    }
    for (const [id, value] of Object.entries(expected))
      expect(await tileValue('#fleet-tiles', id), id).toBe(value)
    expect(await page.locator('[data-tile="ac"] dd').textContent()).toContain(
      `${summary.meters.totalAcConsumed.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} kWh`,
    )
    expect(await page.locator('[data-tile="vehiclesActive"] dd').textContent()).toBe('14')
    expect(await page.locator('#stale').textContent()).toBe('')

    const from = new Date(Date.parse(summary.windowEnd) - DAY).toISOString()
    const series = await api<{ points: Point[] }>(
      `/v1/analytics/fleet/series?from=${from}&to=${summary.windowEnd}&bucket=hour&tz=${TZ}`,
    )
    expect(series.points).toHaveLength(25)
    expect(await drawn('#chart-efficiency')).toEqual({
      points: 25,
      drawn: [nonNull(series.points.map((p) => p.efficiencyRatio))],
    })
    expect(await drawn('#chart-energy')).toEqual({ points: 25, drawn: [25, 25] })
    await shot('dashboard-fleet')

    // 7 days: 169 hourly points.
    await page.getByLabel('Last 7 days').check()
    await expect.poll(async () => (await drawn('#chart-energy')).points).toBe(7 * 24 + 1)
    await page.getByLabel('Last 24 h').check()
    await expect.poll(async () => (await drawn('#chart-energy')).points).toBe(25)
  })

  it('alerts: worst first, sortable, paginated; a row opens its vehicle', async () => {
    const alerts = await api<{ items: { vehicleId: string }[] }>('/v1/analytics/efficiency/alerts?limit=500')
    const rows = page.locator('#alerts tbody tr')
    await expect.poll(() => rows.count()).toBe(10)
    expect(await rows.first().getAttribute('data-vehicle')).toBe(alerts.items[0]!.vehicleId)
    expect(alerts.items[0]!.vehicleId).toBe('EV-14') // 0.5
    expect(await page.locator('#alerts-page').textContent()).toBe('Page 1 of 2')
    await page.getByRole('button', { name: 'Next' }).click()
    expect(await page.locator('#alerts-page').textContent()).toBe('Page 2 of 2')
    await expect.poll(() => rows.count()).toBe(2)
    await page.getByRole('button', { name: /^Vehicle/ }).click()
    expect(await page.locator('#alerts-page').textContent()).toBe('Page 1 of 2')
    expect(await rows.first().getAttribute('data-vehicle')).toBe('EV-03')
    expect(await page.locator('th[aria-sort="ascending"]').textContent()).toContain('Vehicle')

    // Keyboard: focus the first row's link and press Enter.
    await rows.first().locator('a').focus()
    await page.keyboard.press('Enter')
    await page.locator('#live-tiles').waitFor()
    expect(page.url()).toMatch(/#\/vehicles\/EV-03$/)
    expect(await page.locator('#vehicle-id').textContent()).toBe('EV-03')
  })

  it('vehicle page: live state, performance and the series charts', async () => {
    const live = await api<{ soc: number; batteryTemp: number; timestamp: string }>('/v1/vehicles/EV-03/live')
    expect(await tileValue('#live-tiles', 'soc')).toBe(String(live.soc))
    expect(await tileValue('#live-tiles', 'batteryTemp')).toBe(String(live.batteryTemp))
    expect(await tileValue('#live-tiles', 'timestamp')).toBe(live.timestamp)
    const perf = await api<{ windowEnd: string; totalAcConsumed: number; efficiencyRatio: number }>(
      '/v1/analytics/performance/EV-03',
    )
    expect(await tileValue('#performance-tiles', 'ac')).toBe(String(perf.totalAcConsumed))
    expect(await tileValue('#performance-tiles', 'efficiency')).toBe(String(perf.efficiencyRatio))
    const from = new Date(Date.parse(perf.windowEnd) - DAY).toISOString()
    const series = await api<{
      points: (Point & {
        soc: { last: number | null }
        batteryTemp: { avg: number | null; max: number | null }
      })[]
    }>(`/v1/analytics/vehicles/EV-03/series?from=${from}&to=${perf.windowEnd}&bucket=hour&tz=${TZ}`)
    expect(await drawn('#chart-acdc')).toEqual({ points: series.points.length, drawn: [25, 25] })
    expect(await drawn('#chart-vehicle-efficiency')).toEqual({
      points: 25,
      drawn: [nonNull(series.points.map((p) => p.efficiencyRatio))],
    })
    expect(await drawn('#chart-soc-temp')).toEqual({
      points: 25,
      drawn: [
        nonNull(series.points.map((p) => p.soc.last)),
        nonNull(series.points.map((p) => p.batteryTemp.avg)),
        nonNull(series.points.map((p) => p.batteryTemp.max)),
      ],
    })
    await shot('dashboard-vehicle')
    await page.getByRole('link', { name: '← Fleet' }).click()
    await page.locator('#fleet-tiles').waitFor()
  })

  it('warns when the data is stale', async () => {
    // The browser's clock moves 10 minutes past the replica's last replayed commit.
    await page.clock.install({ time: Date.now() + 10 * 60_000 })
    await page.reload()
    await expect.poll(() => page.locator('#stale').textContent()).toMatch(/^No new data for 1\d min/)
    expect(await page.locator('[data-tile="freshness"]').getAttribute('class')).toContain('warn')
  })
})
