import { describe, expect, it } from 'vitest'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'

// No database is needed: these requests send no query.
const config = loadConfig({
  ANALYTICS_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
  ANALYTICS_API_KEYS: 'k',
})

interface Operation {
  operationId?: string
  summary?: string
  description?: string
  parameters?: {
    name: string
    in: string
    required?: boolean
    schema?: { enum?: string[]; default?: unknown }
  }[]
  responses: Record<string, { description?: string; content?: Record<string, unknown> }>
}

describe('OpenAPI of the series, export and dashboard routes', () => {
  it('names and describes each new operation and its parameters', async () => {
    const app = await buildApp(config, { logger: false })
    try {
      const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as {
        paths: Record<string, { get: Operation }>
      }
      const op = (path: string) => doc.paths[path]!.get
      expect(op('/v1/analytics/vehicles/{vehicleId}/series').operationId).toBe('getVehicleSeries')
      expect(op('/v1/analytics/meters/{meterId}/series').operationId).toBe('getMeterSeries')
      expect(op('/v1/analytics/fleet/series').operationId).toBe('getFleetSeries')
      expect(op('/v1/export/readings').operationId).toBe('exportReadings')
      for (const path of ['/v1/analytics/fleet/series', '/v1/analytics/vehicles/{vehicleId}/series']) {
        const params = Object.fromEntries(op(path).parameters!.map((p) => [p.name, p]))
        expect(Object.keys(params)).toEqual(expect.arrayContaining(['from', 'to', 'bucket', 'tz']))
        expect(op(path).summary).toBeTruthy()
      }
      const exp = op('/v1/export/readings')
      expect(exp.parameters!.find((p) => p.name === 'kind')!.required).toBe(true)
      // Column names and units are in the operation's description.
      for (const text of [
        '`kwhConsumedAc`',
        'kWh',
        '`voltage` (grid voltage, V)',
        '`batteryTemp` (battery temperature, °C)',
      ])
        expect(exp.description).toContain(text)
      expect(Object.keys(exp.responses['200']!.content!)).toEqual(['text/csv', 'application/x-ndjson'])
      // The dashboard's static routes are not part of the API document.
      expect(Object.keys(doc.paths).filter((p) => p.startsWith('/dashboard'))).toEqual([])
    } finally {
      await app.close()
    }
  })
})
