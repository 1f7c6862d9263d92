import { ErrorBodySchema } from '@energy-ingest/contracts'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { Type, type TSchema } from '@sinclair/typebox'
import type { FastifyPluginAsync, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'

/** A reference to a schema added by `$id` (the OpenAPI document lists it once, under components). */
export const Ref = (id: string) => Type.Unsafe<unknown>({ $ref: `${id}#` })

/** The shared error body, by reference. */
export const ErrorRef = Ref(ErrorBodySchema.$id!)

/** Error responses of a route, all the shared `ErrorBody`. */
export function errorResponses(...codes: number[]): Record<number, TSchema> {
  return Object.fromEntries(codes.map((c) => [c, ErrorRef]))
}

export interface OpenApiOptions {
  title: string
  /** The API's version (default 1.0.0). */
  version?: string
  description: string
  /** Tags the operations use, with what each groups (`health` is added: the health plugin's). */
  tags: Record<string, string>
  /** Contract schemas with an `$id`, added once so routes and the document refer to the same definitions. */
  schemas?: TSchema[]
  /** Serve the document's UI at /docs (the JSON is at /docs/json either way). */
  ui?: boolean
}

type RouteSchema = {
  hide?: boolean
  operationId?: string
  summary?: string
  tags?: string[]
  response?: Record<string, unknown>
}

/** What a documented route lacks: every operation has an operationId, a summary and tags. */
export function missingOperationFields(schema: RouteSchema | undefined): string[] {
  if (schema?.hide === true) return []
  return (['operationId', 'summary', 'tags'] as const).filter((k) =>
    k === 'tags' ? !schema?.tags?.length : !schema?.[k],
  )
}

/**
 * The service's OpenAPI 3.1 document at /docs/json (UI at /docs). A route that would be documented
 * without an operationId, a summary or tags fails at start-up, and every documented route that
 * declares responses also answers 500 with the shared error body.
 */
const openapi: FastifyPluginAsync<OpenApiOptions> = async (app, opts) => {
  for (const schema of [ErrorBodySchema, ...(opts.schemas ?? [])]) app.addSchema(schema)
  app.addHook('onRoute', (route: RouteOptions) => {
    const schema = route.schema as RouteSchema | undefined
    const missing = missingOperationFields(schema)
    if (missing.length > 0) {
      throw new Error(
        `route ${String(route.method)} ${route.url}: its OpenAPI operation needs ${missing.join(', ')}`,
      )
    }
    if (schema?.response && schema.hide !== true) schema.response['500'] ??= ErrorRef
  })
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: opts.title,
        version: opts.version ?? '1.0.0',
        description: opts.description,
        license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
      },
      servers: [{ url: '/', description: 'The server that serves this document' }],
      tags: Object.entries({ ...opts.tags, health: 'Liveness and readiness probes' }).map(
        ([name, description]) => ({ name, description }),
      ),
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  })
  if (opts.ui !== false) await app.register(swaggerUi, { routePrefix: '/docs' })
}

export default fp(openapi, { name: 'openapi', fastify: '5.x' })
