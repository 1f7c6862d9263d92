import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readStackEnv } from './infra.js'

describe('readStackEnv', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('reads the URLs and dev credentials `npm start` writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-stack-'))
    dirs.push(dir)
    const file = join(dir, 'stack.env')
    writeFileSync(
      file,
      [
        'DATABASE_URL=postgres://postgres@127.0.0.1:55433/energy',
        'ANALYTICS_DATABASE_URL=postgres://postgres@127.0.0.1:55434/energy',
        'KAFKA_BROKERS=127.0.0.1:59092',
        'GATEWAY_URL=http://127.0.0.1:3000',
        'ANALYTICS_URL=http://127.0.0.1:3001',
        'INGEST_FLEET_TOKEN=fleet-abc=',
        'ANALYTICS_API_KEY=analyst-xyz',
        '',
      ].join('\n'),
    )
    expect(readStackEnv(file)).toEqual({
      own: false,
      gatewayUrl: 'http://127.0.0.1:3000',
      analyticsUrl: 'http://127.0.0.1:3001',
      primaryUrl: 'postgres://postgres@127.0.0.1:55433/energy',
      replicaUrl: 'postgres://postgres@127.0.0.1:55434/energy',
      brokers: ['127.0.0.1:59092'],
      fleetToken: 'fleet-abc=',
      analyticsKey: 'analyst-xyz',
    })
  })

  it('says what is missing', () => {
    expect(() => readStackEnv('/nonexistent/stack.env')).toThrow(/npm start/)
  })
})
