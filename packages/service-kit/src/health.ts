import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

/** The answer of one named readiness check: ok or not, why not, and facts worth showing. */
export interface CheckResult {
  ok: boolean
  reason?: string
  details?: Record<string, unknown>
}

export type ReadinessCheck = () => CheckResult | Promise<CheckResult>

/** The one answer shape of /health/live and /health/ready in every service. */
export const HealthSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
    checks: Type.Record(
      Type.String(),
      Type.Object({
        ok: Type.Boolean(),
        reason: Type.Optional(Type.String()),
        details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      }),
      { description: 'One entry per named readiness check (none on /health/live)' },
    ),
  },
  { $id: 'Health' },
)
export type Health = Static<typeof HealthSchema>

export interface HealthOptions {
  /** Named readiness checks, run together; ready when all are ok. */
  checks: Record<string, ReadinessCheck>
  /** A check that has not answered by then fails with reason `timed out`. */
  timeoutMs: number
}

async function run(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: 'timed out' }), timeoutMs)
    timer.unref()
  })
  try {
    return await Promise.race([Promise.resolve().then(check), deadline])
  } catch (err) {
    return { ok: false, reason: (err as Error).message }
  } finally {
    clearTimeout(timer)
  }
}

/** Runs every check at once and folds them into the health answer. */
export async function readiness(opts: HealthOptions): Promise<Health> {
  const names = Object.keys(opts.checks)
  const results = await Promise.all(names.map((n) => run(opts.checks[n]!, opts.timeoutMs)))
  const checks = Object.fromEntries(names.map((n, i) => [n, results[i]!]))
  return { status: results.every((r) => r.ok) ? 'ok' : 'unavailable', checks }
}

/**
 * GET /health/live (the process answers: always 200) and GET /health/ready (200 when every named
 * check is ok, else 503), no auth. Probes that arrive together share one run of the checks.
 */
const health: FastifyPluginAsync<HealthOptions> = async (app, opts) => {
  const tags = ['health']
  const live = { status: 'ok', checks: {} } as const
  app.get(
    '/health/live',
    {
      logLevel: 'warn',
      schema: {
        operationId: 'getLiveness',
        summary: 'The process answers',
        tags,
        response: { 200: HealthSchema },
      },
    },
    async () => live,
  )
  let inFlight: Promise<Health> | undefined
  app.get(
    '/health/ready',
    {
      logLevel: 'warn',
      schema: {
        operationId: 'getReadiness',
        summary: 'Every dependency answers: ready to serve',
        tags,
        response: { 200: HealthSchema, 503: HealthSchema },
      },
    },
    async (_req, reply) => {
      inFlight ??= readiness(opts).finally(() => {
        inFlight = undefined
      })
      const answer = await inFlight
      return reply.code(answer.status === 'ok' ? 200 : 503).send(answer)
    },
  )
}

export default fp(health, { name: 'health', fastify: '5.x' })
