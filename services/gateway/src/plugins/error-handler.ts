import {
  errorReply as replyFor,
  type ClientError,
  type ErrorPolicy,
  type ErrorReply,
  type RequestFacts,
} from '@energy-ingest/service-kit'
import { BodyTooLarge, CODE_PREFIX, EmptyBody, MalformedJson, UnsupportedMediaType } from '../errors.js'

/** Fastify's own errors, re-coded so a client sees one vocabulary; the message names the field. */
function normalise(err: ClientError, req: RequestFacts): ClientError {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaType(JSON.stringify(req.contentType ?? ''), 'application/json')
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new BodyTooLarge(req.bodyLimit ?? '')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new EmptyBody()
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new MalformedJson(err.message)
  }
  // secure-json-parse throws a SyntaxError (bad JSON) or an Error (__proto__ key) tagged 400.
  if (err.code === undefined && err.statusCode === 400) return new MalformedJson(err.message)
  return err
}

/** How the gateway maps errors; `retryAfterS` is the Retry-After of a 503 (RETRY_AFTER_S). */
export function errorPolicy(retryAfterS: number): ErrorPolicy {
  return {
    prefix: CODE_PREFIX,
    badRequestCode: 'INGEST_BAD_REQUEST',
    normalise,
    retryAfterS: () => retryAfterS,
  }
}

/** Maps any error to the status and JSON body a client gets (with the default Retry-After). */
export function errorReply(err: ClientError, req: RequestFacts = {}): ErrorReply {
  return replyFor(err, errorPolicy(2), req)
}
