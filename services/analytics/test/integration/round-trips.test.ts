// Each per-device answer is one statement: one round trip to PostgreSQL, in one snapshot, with no
// BEGIN/COMMIT around it. Counted on the real driver (every query a pooled client sends), on a seeded
// fleet whose answers the exactness tests (analytics.test.ts, series.test.ts) check.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestDatabase, waitForReplica, type TestDatabase } from '@energy-ingest/testenv'
import { buildApp, type App } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { seedFleet } from './fixtures.js'

const env = inject('testenv')
const KEY = 'k'
const NOW = Date.parse('2026-06-15T12:00:30.000Z')

let db: TestDatabase
let app: App
const sent: string[] = []
const originalQuery = pg.Client.prototype.query

beforeAll(async () => {
  db = await createTestDatabase(env)
  await seedFleet(db.url, 17, NOW, { readings: 100 })
  await waitForReplica(env.primaryUrl, env.replicaUrl)
  app = await buildApp(loadConfig({ ANALYTICS_DATABASE_URL: db.replicaUrl, ANALYTICS_API_KEYS: KEY }), {
    logger: false,
    now: () => NOW,
  })
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const [text] = args as [unknown]
    sent.push(typeof text === 'string' ? text : String((text as { text?: string }).text))
    return (originalQuery as (...a: unknown[]) => unknown).apply(this, args)
  } as typeof pg.Client.prototype.query
})

afterAll(async () => {
  pg.Client.prototype.query = originalQuery
  await app?.close()
  await db?.drop()
})

async function statementsOf(url: string): Promise<{ status: number; statements: string[] }> {
  sent.length = 0
  const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${KEY}` } })
  return { status: res.statusCode, statements: [...sent] }
}

describe('one round trip per per-device answer', () => {
  it.each([
    '/v1/analytics/performance/EV-1',
    '/v1/analytics/meters/M-a',
    '/v1/analytics/vehicles/EV-2',
    '/v1/analytics/vehicles/EV-1/series?bucket=hour',
    '/v1/analytics/vehicles/EV-1/series?bucket=day&from=2026-06-08T12:00:00Z&to=2026-06-15T12:00:00Z&tz=Asia/Kolkata',
    '/v1/analytics/meters/M-b/series?bucket=15m',
    '/v1/analytics/fleet/series?bucket=hour',
  ])('%s sends one statement', async (url) => {
    const { status, statements } = await statementsOf(url)
    expect(status).toBe(200)
    expect(statements).toHaveLength(1)
    expect(statements[0]).not.toMatch(/^\s*(BEGIN|COMMIT|ROLLBACK)/i)
  })

  it('answers an unknown device 404 from that same one statement', async () => {
    const { status, statements } = await statementsOf('/v1/analytics/performance/EV-nobody')
    expect(status).toBe(404)
    expect(statements).toHaveLength(1)
  })

  it('the bare route the bench compares with sends SELECT 1, behind the API key', async () => {
    const { status, statements } = await statementsOf('/v1/ping')
    expect(status).toBe(200)
    expect(statements).toEqual(['SELECT 1'])
    const res = await app.inject({ method: 'GET', url: '/v1/ping' })
    expect(res.statusCode).toBe(401)
  })
})
