import { Type } from '@sinclair/typebox'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import openapi, { errorResponses, missingOperationFields } from './openapi.js'

const docOptions = { title: 'T', description: 'd', tags: { t: 'things' }, ui: false }

describe('missingOperationFields', () => {
  it('names what a documented operation lacks; hidden routes need nothing', () => {
    expect(missingOperationFields({ summary: 's', tags: [] })).toEqual(['operationId', 'tags'])
    expect(missingOperationFields(undefined)).toEqual(['operationId', 'summary', 'tags'])
    expect(missingOperationFields({ hide: true })).toEqual([])
  })
})

describe('openapi plugin', () => {
  it('serves a 3.1 document whose error responses refer to the shared error body', async () => {
    const app = Fastify({ logger: false })
    await app.register(openapi, docOptions)
    app.get(
      '/things',
      {
        schema: {
          operationId: 'listThings',
          summary: 'Things',
          tags: ['t'],
          response: { 200: Type.Object({ n: Type.Integer() }), ...errorResponses(400) },
        },
      },
      async () => ({ n: 1 }),
    )
    try {
      await app.ready()
      const doc = app.swagger() as {
        openapi: string
        info: { license: { name: string } }
        servers: unknown[]
        paths: Record<
          string,
          { get: { responses: Record<string, { content: Record<string, { schema: unknown }> }> } }
        >
        components: { schemas: Record<string, unknown> }
      }
      expect(doc.openapi).toBe('3.1.0')
      expect(doc.info.license.name).toBeTruthy()
      expect(doc.servers.length).toBeGreaterThan(0)
      const responses = doc.paths['/things']!.get.responses
      for (const status of ['400', '500'])
        expect(responses[status]!.content['application/json']!.schema).toEqual({
          $ref: '#/components/schemas/ErrorBody',
        })
      expect(Object.keys(doc.components.schemas)).toContain('ErrorBody')
    } finally {
      await app.close()
    }
  })

  it('refuses to start with an operation lacking an operationId', async () => {
    const app = Fastify({ logger: false })
    await app.register(openapi, docOptions)
    expect(() => app.get('/x', { schema: { summary: 's', tags: ['t'] } }, async () => 'x')).toThrow(
      'route GET /x: its OpenAPI operation needs operationId',
    )
    await app.close()
  })
})
