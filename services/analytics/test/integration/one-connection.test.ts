// Every request holds at most one pooled connection: the fleet summary computes the shared efficiency
// alerts on the connection it already holds, so a small pool under concurrent summaries never waits
// on itself.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '@energy-ingest/testenv'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

const env = inject('testenv')
const KEY = 'k'
const CONCURRENT = 12

let db: TestDatabase

beforeAll(async () => {
  db = await createTestDatabase(env)
})

afterAll(async () => {
  await db?.drop()
})

describe('one connection per request', () => {
  it.each([
    ['recomputed for every request', '0'],
    ['shared, computed by the first request', '30000'],
  ])(
    `answers ${CONCURRENT} concurrent fleet summaries on a pool of 2 with the alerts %s`,
    async (_label, cacheMs) => {
      const app = await buildApp(
        loadConfig({
          ANALYTICS_DATABASE_URL: db.replicaUrl,
          ANALYTICS_API_KEYS: KEY,
          ANALYTICS_POOL_MAX: '2',
          ANALYTICS_ALERTS_CACHE_MS: cacheMs,
        }),
        { logger: false },
      )
      try {
        const responses = await Promise.all(
          Array.from({ length: CONCURRENT }, () =>
            app.inject({
              method: 'GET',
              url: '/v1/analytics/fleet/summary',
              headers: { authorization: `Bearer ${KEY}` },
            }),
          ),
        )
        expect(responses.map((r) => `${r.statusCode} ${r.statusCode === 200 ? '' : r.body}`)).toEqual(
          Array.from({ length: CONCURRENT }, () => '200 '),
        )
        // The alerts route takes the same path.
        const alerts = await Promise.all(
          Array.from({ length: CONCURRENT }, () =>
            app.inject({
              method: 'GET',
              url: '/v1/analytics/efficiency/alerts',
              headers: { authorization: `Bearer ${KEY}` },
            }),
          ),
        )
        expect(alerts.map((r) => r.statusCode)).toEqual(Array.from({ length: CONCURRENT }, () => 200))
      } finally {
        await app.close()
      }
    },
  )
})
