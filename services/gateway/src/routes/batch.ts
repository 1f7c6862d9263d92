import { setImmediate } from 'node:timers/promises'
import { detectReadingType, validateReading, type ValidationIssue } from '@energy-ingest/contracts'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { BatchAllRejected, BatchNotArray, BatchTooLarge, DeviceForbidden, withIssues } from '../errors.js'
import { batchBodyLimitBytes, registerBatchParsers } from '../body/batch-parsers.js'
import { UnreadableItem, type BatchLimits } from '../body/batch-splitter.js'
import type { Principal } from '../auth/tokens.js'
import { readingRecord, type OutRecord } from '../publish/pack.js'
import { BatchAcceptedSchema, ReadingRef, errorResponses, handlerValidated } from '../schemas.js'
import { readingTimeRules, type ReadingTimeOptions } from '../time-rules.js'

export interface BatchRouteOptions extends BatchLimits {
  time: ReadingTimeOptions
}

/** Validation yields to the event loop after this many items, so a full batch never holds it long. */
const YIELD_EVERY = 500

interface Rejected {
  index: number
  issues: ValidationIssue[]
}

/** "body/3/voltage" — where an item's problem is, in the terms of the request body. */
function itemPath(index: number, field: string): string {
  return field === 'body' ? `body/${index}` : `body/${index}/${field.replace(/\./g, '/')}`
}

function batchRouteSchema(opts: BatchRouteOptions) {
  return {
    operationId: 'ingestBatch',
    summary: 'Ingest a batch of readings',
    description:
      `A JSON array, or application/x-ndjson (one reading per line), of up to ${opts.maxItems} readings ` +
      `of at most ${opts.maxItemBytes} bytes each (body limit ${batchBodyLimitBytes(opts)} bytes). ` +
      'Valid items are published; invalid ones are listed with their index. 400 when none is valid. ' +
      `The body is read as it arrives and refused at item ${opts.maxItems + 1} (413), ` +
      `at the ${opts.maxUnreadable}th line that is not JSON or is too long (400), or at broken JSON in an array (400). ` +
      'A device token may only post its own readings (403 otherwise, nothing published).',
    tags: ['ingest'],
    consumes: ['application/json', 'application/x-ndjson'],
    body: handlerValidated(Type.Array(ReadingRef, { maxItems: opts.maxItems })),
    response: {
      202: BatchAcceptedSchema,
      ...errorResponses(400, 401, 403, 413, 415, 429, 503),
    },
  }
}

interface Sorted {
  records: OutRecord[]
  rejected: Rejected[]
  counts: { meter: number; vehicle: number }
}

/**
 * Validates every item of the batch: valid ones become records, invalid ones are listed by index.
 * Throws DeviceForbidden at the first reading the principal may not post.
 */
async function sortItems(
  app: FastifyInstance,
  principal: Principal,
  body: unknown[],
  time: ReadingTimeOptions,
): Promise<Sorted> {
  const { metrics, tokens } = app
  const rules = readingTimeRules(time)
  const out: Sorted = { records: [], rejected: [], counts: { meter: 0, vehicle: 0 } }
  for (let index = 0; index < body.length; index++) {
    if (index > 0 && index % YIELD_EVERY === 0) await setImmediate()
    const item: unknown = body[index]
    if (item instanceof UnreadableItem) {
      out.rejected.push({ index, issues: [{ field: 'body', reason: `${item.where}: ${item.reason}` }] })
      metrics.rejected.inc({ type: 'unknown', reason: 'malformed' })
      continue
    }
    const result = validateReading(item, rules)
    if (!result.ok) {
      out.rejected.push({ index, issues: result.issues })
      const detected = detectReadingType(item)
      metrics.rejected.inc({ type: detected.ok ? detected.type : 'unknown', reason: 'invalid' })
      continue
    }
    const record = readingRecord(result)
    // One foreign reading refuses the whole request: a device posting for others is not a data error.
    if (!tokens.mayPostFor(principal, result.type, record.key)) {
      metrics.rejected.inc({ type: result.type, reason: 'forbidden' }, out.records.length + 1)
      throw new DeviceForbidden(`${result.type}:${record.key} (item ${index})`)
    }
    out.records.push(record)
    out.counts[result.type]++
  }
  return out
}

/** The 400 of a batch without a valid item: the first issue in the message, all of them in the body. */
function allRejected(rejected: Rejected[]): Error {
  const details = rejected.flatMap((r) =>
    r.issues.map((i) => ({ field: itemPath(r.index, i.field), reason: i.reason })),
  )
  const summary =
    details.length === 0 ? 'body: is an empty array' : `${details[0]!.field}: ${details[0]!.reason}`
  return withIssues(
    new BatchAllRejected(`${summary}${details.length > 1 ? ` (and ${details.length - 1} more)` : ''}`),
    details,
  )
}

/** Publishes the records and counts them as accepted, or as unavailable when publishing fails. */
async function publishCounted(app: FastifyInstance, { records, counts }: Sorted): Promise<void> {
  const { metrics, publisher } = app
  try {
    await publisher.publish(records)
  } catch (err) {
    if (counts.meter > 0) metrics.rejected.inc({ type: 'meter', reason: 'unavailable' }, counts.meter)
    if (counts.vehicle > 0) metrics.rejected.inc({ type: 'vehicle', reason: 'unavailable' }, counts.vehicle)
    throw err
  }
  if (counts.meter > 0) metrics.accepted.inc({ type: 'meter' }, counts.meter)
  if (counts.vehicle > 0) metrics.accepted.inc({ type: 'vehicle' }, counts.vehicle)
}

/** POST /ingest/batch: a JSON array or NDJSON of readings; each item is validated on its own. */
export default async function batchRoutes(fastify: FastifyInstance, opts: BatchRouteOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { rateLimit } = app
  // Only this route takes NDJSON (elsewhere it is a 415), and reads its JSON incrementally.
  registerBatchParsers(app, opts)
  app.post(
    '/ingest/batch',
    { bodyLimit: batchBodyLimitBytes(opts), schema: batchRouteSchema(opts) },
    async (req, reply) => {
      const body: unknown = req.body
      if (!Array.isArray(body)) throw new BatchNotArray()
      if (body.length > opts.maxItems) throw new BatchTooLarge(opts.maxItems)
      const principal = req.principal!
      // Every item counts, valid or not: a batch of 5,000 is 5,000 readings of the token's budget.
      rateLimit.chargeReadings(principal, body.length)
      const sorted = await sortItems(app, principal, body, opts.time)
      if (sorted.records.length === 0) throw allRejected(sorted.rejected)
      await publishCounted(app, sorted)
      return reply.code(202).send({ accepted: sorted.records.length, rejected: sorted.rejected })
    },
  )
}
