import { describe, expect, it } from 'vitest'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'

// No database is needed: the pool connects on the first query, and these routes send none.
const env = {
  ANALYTICS_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
  ANALYTICS_API_KEYS: 'k',
}
const config = loadConfig(env)

describe('analytics app', () => {
  it('documents every route and every answer field in its OpenAPI document', async () => {
    const app = await buildApp(config, { logger: false })
    try {
      const res = await app.inject({ method: 'GET', url: '/docs/json' })
      expect(res.statusCode).toBe(200)
      const doc = res.json() as {
        paths: Record<
          string,
          {
            get: {
              responses: Record<
                string,
                { content: Record<string, { schema: { properties: Record<string, unknown> } }> }
              >
            }
          }
        >
      }
      expect(Object.keys(doc.paths).sort()).toEqual([
        '/health/live',
        '/health/ready',
        '/v1/analytics/efficiency/alerts',
        '/v1/analytics/fleet/series',
        '/v1/analytics/fleet/summary',
        '/v1/analytics/meters/{meterId}',
        '/v1/analytics/meters/{meterId}/series',
        '/v1/analytics/performance/{vehicleId}',
        '/v1/analytics/vehicles/{vehicleId}',
        '/v1/analytics/vehicles/{vehicleId}/series',
        '/v1/export/readings',
        '/v1/meters/{meterId}/live',
        '/v1/vehicles/{vehicleId}/live',
      ])
      const perf =
        doc.paths['/v1/analytics/performance/{vehicleId}']!.get.responses['200']!.content['application/json']!
          .schema
      expect(Object.keys(perf.properties).sort()).toEqual(
        [
          'asOf',
          'avgBatteryTemp',
          'efficiencyRatio',
          'meterIds',
          'readings',
          'totalAcConsumed',
          'totalDcDelivered',
          'vehicleId',
          'windowEnd',
          'windowStart',
        ].sort(),
      )
    } finally {
      await app.close()
    }
  })

  it('bounds HTTP connections, and gives the readiness probe a pool of its own', async () => {
    const app = await buildApp(
      loadConfig({
        ...env,
        ANALYTICS_REQUEST_TIMEOUT_MS: '7000',
        ANALYTICS_CONNECTION_TIMEOUT_MS: '90000',
        ANALYTICS_KEEP_ALIVE_TIMEOUT_MS: '61000',
        ANALYTICS_HEALTH_TIMEOUT_MS: '800',
      }),
      { logger: false },
    )
    try {
      expect(app.initialConfig).toMatchObject({
        requestTimeout: 7000,
        connectionTimeout: 90000,
        keepAliveTimeout: 61000,
      })
      expect(app.replicaProbe).not.toBe(app.replica)
      expect(app.replicaProbe.options).toMatchObject({ max: 1, connectionTimeoutMillis: 800 })
    } finally {
      await app.close()
    }
  })

  it('refuses /v1 without a key before touching the database', async () => {
    const app = await buildApp(config, { logger: false })
    try {
      const res = await app.inject({ method: 'GET', url: '/v1/analytics/fleet/summary' })
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({
        code: 'ANALYTICS_UNAUTHORIZED',
        message: 'authorization: missing Bearer API key',
      })
    } finally {
      await app.close()
    }
  })
})
