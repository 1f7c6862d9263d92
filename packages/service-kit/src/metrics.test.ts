import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import metrics from './metrics.js'

// promtool's naming rules: counters end in _total, units are base units and part of the name.
const PROMTOOL_NAME = /^[a-z_][a-z0-9_]*$/

describe('metrics plugin', () => {
  it('serves one registry per app, every name prefixed with the service', async () => {
    const a = Fastify({ logger: false })
    const b = Fastify({ logger: false })
    await a.register(metrics, { service: 'svc', processMetrics: true })
    await b.register(metrics, { service: 'svc', processMetrics: false })
    a.get('/x', async () => ({ ok: true }))
    try {
      await a.inject({ url: '/x' })
      const res = await a.inject({ url: '/metrics' })
      expect(res.headers['content-type']).toContain('text/plain')
      expect(res.body).toMatch(
        /svc_http_request_duration_seconds_count\{route="\/x",method="GET",status_code="200"\} 1/,
      )
      expect(res.body).toContain('svc_process_cpu_seconds_total')
      const names = (await a.prometheus.registry.getMetricsAsJSON()).map((m) => m.name)
      for (const name of names) {
        expect(name).toMatch(PROMTOOL_NAME)
        expect(name.startsWith('svc_')).toBe(true)
      }
      for (const m of await a.prometheus.registry.getMetricsAsJSON()) {
        if (String(m.type) === 'counter') expect(m.name).toMatch(/_total$/)
        expect(m.name).not.toMatch(/_(milliseconds|ms|kilobytes|minutes)(_|$)/)
      }
      expect((await b.inject({ url: '/metrics' })).body).not.toContain('svc_process_cpu_seconds_total')
      expect(a.prometheus.name('rows_total')).toBe('svc_rows_total')
    } finally {
      await a.close()
      await b.close()
    }
  })
})
