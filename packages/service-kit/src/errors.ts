import createError, { type FastifyErrorConstructor } from '@fastify/error'
import type { FastifyError } from 'fastify'

/** One problem of a request, as the error body's `details` list it. */
export interface ErrorIssue {
  field: string
  reason: string
}

/** Whatever reaches an error handler: a service's own error, a Fastify error, a driver's error. */
export type ClientError = Partial<FastifyError> & {
  message: string
  /** Validation problems, listed as the body's `details`. */
  issues?: ErrorIssue[]
  /** Seconds until a refused request may succeed (rate limits); overrides the 503 default. */
  retryAfterS?: number
}

/** `[status, message template]` of one code; `%s` placeholders take the constructor's arguments. */
export type ErrorSpec = readonly [statusCode: number, template: string]

/**
 * A service's error constructors from one table, each code prefixed with the service's name
 * (`defineErrors('INGEST', { EmptyBody: ['EMPTY_BODY', 400, 'body: is empty'] })` gives
 * `EmptyBody` with code `INGEST_EMPTY_BODY`). Codes are stable and never reused.
 */
export function defineErrors<K extends string>(
  prefix: string,
  table: Record<K, readonly [code: string, ...ErrorSpec]>,
): Record<K, FastifyErrorConstructor> {
  const out = {} as Record<K, FastifyErrorConstructor>
  for (const name of Object.keys(table) as K[]) {
    const [code, statusCode, template] = table[name]
    out[name] = createError(`${prefix}_${code}`, template, statusCode)
  }
  return out
}

/** Attaches validation problems to an error, so the error handler lists them as `details`. */
export function withIssues<E extends Error>(err: E, issues: ErrorIssue[]): E & { issues: ErrorIssue[] } {
  return Object.assign(err, { issues })
}

/** "voltage: must be <= 1000; timestamp: ..." — the human-readable part of a 400. */
export function describeIssues(issues: ErrorIssue[], limit = 3): string {
  const shown = issues.slice(0, limit).map((i) => `${i.field}: ${i.reason}`)
  if (issues.length > limit) shown.push(`and ${issues.length - limit} more`)
  return shown.join('; ')
}

// TypeBox's messages for the two structural problems, in the words the error bodies use.
const REASONS: Record<string, string> = {
  'Unexpected property': 'is not a known parameter',
  'Expected required property': 'is required',
}

/**
 * The problems of a failed schema validation (Fastify's `err.validation`, filled by TypeBox's
 * compiler) as `{ field, reason }`: the field is the path inside the request part (`below`,
 * `items.3.voltage`), or the part itself (`querystring`) when the whole value is wrong.
 */
export function validationIssues(err: ClientError): ErrorIssue[] {
  const seen = new Set<string>()
  const issues: ErrorIssue[] = []
  for (const v of err.validation ?? []) {
    const field =
      v.instancePath.replace(/^\//, '').replace(/\//g, '.') || (err.validationContext ?? 'request')
    if (seen.has(field)) continue // TypeBox reports a union's failure once per member
    seen.add(field)
    const message = v.message ?? 'is invalid'
    const reason = REASONS[message] ?? message.charAt(0).toLowerCase() + message.slice(1)
    issues.push({ field, reason })
  }
  return issues
}
