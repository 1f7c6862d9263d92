// The served OpenAPI documents are a contract: both validate as OpenAPI 3.1, a typed client generated
// from them type-checks, and that client posts a reading to the running gateway and reads it back
// from the running analytics service (through Kafka, the writer and the replica).
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import SwaggerParser from '@apidevtools/swagger-parser'
import { eventually } from '@energy-ingest/testenv'
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPipeline, type Pipeline } from './harness.js'

/** Git-ignored: generated each run. */
const OUT = join(import.meta.dirname, '../../.cache/openapi-client')
/** Every service's clock: the reading below is minutes old, whatever today is. */
const NOW = Date.parse('2026-01-15T10:05:00Z')

let p: Pipeline

beforeAll(async () => {
  p = await startPipeline({ name: 'openapi', partitions: 3, now: () => NOW, listen: true })
})

afterAll(async () => {
  await p?.close()
})

/** A client module typed by the generated paths: it must type-check, then it runs. */
const FLOW = `import createClient from 'openapi-fetch'
import type { paths as AnalyticsPaths } from './analytics.js'
import type { paths as GatewayPaths } from './gateway.js'

export async function postAndRead(urls: { gateway: string; analytics: string }, fleetToken: string, apiKey: string) {
  const gw = createClient<GatewayPaths>({ baseUrl: urls.gateway, headers: { authorization: 'Bearer ' + fleetToken } })
  const posted = await gw.POST('/v1/ingest', {
    body: { meterId: 'OPENAPI-M1', kwhConsumedAc: 1.25, voltage: 231, timestamp: '2026-01-15T10:00:00Z' },
  })
  const accepted: { deviceId: string } | undefined = posted.data
  const an = createClient<AnalyticsPaths>({ baseUrl: urls.analytics, headers: { authorization: 'Bearer ' + apiKey } })
  const read = () =>
    an.GET('/v1/analytics/meters/{meterId}', {
      params: { path: { meterId: 'OPENAPI-M1' }, query: { from: '2026-01-15T00:00:00Z', to: '2026-01-16T00:00:00Z' } },
    })
  return { status: posted.response.status, accepted, read }
}
`

/** Type errors of the generated files and the client module, as text (none expected). */
function typeErrors(files: string[]): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  })
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
}

describe('the served OpenAPI documents', () => {
  it('validate as OpenAPI 3.1, yield a typed client that type-checks, and that client works', async () => {
    await mkdir(OUT, { recursive: true })
    for (const [name, base] of Object.entries(p.urls)) {
      const doc = (await (await fetch(`${base}/docs/json`)).json()) as OpenAPI3 & Record<string, unknown>
      expect(doc.openapi).toBe('3.1.0')
      await SwaggerParser.validate(structuredClone(doc) as never) // throws, naming the problem
      const ops = Object.values(doc.paths ?? {}).flatMap((item) => Object.values(item as object))
      for (const op of ops as { operationId?: string; summary?: string; tags?: string[] }[]) {
        expect(op.operationId).toBeTruthy()
        expect(op.summary).toBeTruthy()
        expect(op.tags?.length).toBeGreaterThan(0)
      }
      await writeFile(join(OUT, `${name}.ts`), astToString(await openapiTS(doc)))
    }
    await writeFile(join(OUT, 'flow.ts'), FLOW)
    expect(typeErrors([join(OUT, 'flow.ts')])).toEqual([])

    const { postAndRead } = (await import(join(OUT, 'flow.ts'))) as {
      postAndRead: (
        u: Pipeline['urls'],
        fleet: string,
        key: string,
      ) => Promise<{
        status: number
        accepted?: { deviceId: string }
        read: () => Promise<{ response: Response; data?: { readings: number; totalAcConsumed: number } }>
      }>
    }
    const flow = await postAndRead(p.urls, p.fleetToken, p.apiKey)
    expect(flow.status).toBe(202)
    expect(flow.accepted?.deviceId).toBe('OPENAPI-M1')
    const summary = await eventually(
      async () => {
        const r = await flow.read()
        return r.response.status === 200 ? r.data : undefined
      },
      { timeoutMs: 60_000, message: 'the reading to reach the replica' },
    )
    expect(summary).toMatchObject({ readings: 1, totalAcConsumed: 1.25 })
  }, 300_000) // a TypeScript program over the generated client takes tens of seconds on a busy machine
})
