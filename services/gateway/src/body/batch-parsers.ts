import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import { BodyTooLarge } from '../errors.js'
import { JsonArraySplitter, NdjsonSplitter, type BatchLimits, type BatchSplitter } from './batch-splitter.js'

/** Room for the array brackets, blank lines and white space between items. */
export const BATCH_BODY_SLACK_BYTES = 64 * 1024

/** The body limit of a batch: every item at its bound plus a separator, and some slack. */
export function batchBodyLimitBytes(limits: Pick<BatchLimits, 'maxItems' | 'maxItemBytes'>): number {
  return limits.maxItems * (limits.maxItemBytes + 1) + BATCH_BODY_SLACK_BYTES
}

/**
 * Feeds a request body to a splitter as it arrives, so a batch is refused as soon as it breaks a
 * limit (items, unreadable items, bytes) and no step holds the event loop for more than one chunk.
 * On refusal the rest of the body is left unread (Fastify closes the connection after the answer).
 */
export function readBatch(payload: Readable, splitter: BatchSplitter, maxBytes: number, declared?: string) {
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(new BodyTooLarge(maxBytes))
  return new Promise<unknown[]>((resolve, reject) => {
    let received = 0
    const stop = () => {
      payload.removeListener('data', onData)
      payload.removeListener('end', onEnd)
      payload.removeListener('error', onError)
      // Whatever the socket still reports is of no interest once the request is answered.
      payload.on('error', () => {})
    }
    function onData(chunk: Buffer | string) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      received += bytes.length
      try {
        if (received > maxBytes) throw new BodyTooLarge(maxBytes)
        splitter.push(bytes)
      } catch (err) {
        stop()
        reject(err)
      }
    }
    function onEnd() {
      stop()
      try {
        resolve(splitter.end())
      } catch (err) {
        reject(err)
      }
    }
    function onError(err: Error) {
      stop()
      reject(Object.assign(err, { statusCode: 400 }))
    }
    payload.on('data', onData)
    payload.on('end', onEnd)
    payload.on('error', onError)
  })
}

/**
 * The batch route's body parsers, in its own scope: a JSON array and NDJSON, both read incrementally
 * (Fastify's JSON parser would read the whole body, then parse it whole).
 */
export function registerBatchParsers(app: FastifyInstance, limits: BatchLimits): void {
  const maxBytes = batchBodyLimitBytes(limits)
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', (req: FastifyRequest, payload: IncomingMessage) =>
    readBatch(payload, new JsonArraySplitter(limits), maxBytes, req.headers['content-length']),
  )
  app.addContentTypeParser('application/x-ndjson', (req: FastifyRequest, payload: IncomingMessage) =>
    readBatch(payload, new NdjsonSplitter(limits), maxBytes, req.headers['content-length']),
  )
}
