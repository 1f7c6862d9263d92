// Error codes of the writer, and the error family its batch loop branches on (kafkajs style: every
// error says whether retrying can help).
import { describePgError } from '@energy-ingest/db'

export const WriterErrorCode = {
  /** The message is not a decodable envelope of a known version. */
  UNDECODABLE: 'WRITER_UNDECODABLE_MESSAGE',
  /** The envelope's type does not belong on the topic it came from. */
  WRONG_TOPIC: 'WRITER_WRONG_TOPIC',
  /** A reading or assignment inside the envelope fails the contract. */
  INVALID_ITEM: 'WRITER_INVALID_ITEM',
  /** A reading older than the retention horizon (its month is or will be dropped). */
  EXPIRED: 'WRITER_READING_EXPIRED',
  /** PostgreSQL refused the message's rows (a constraint or data error), in isolation. */
  REJECTED_BY_DATABASE: 'WRITER_REJECTED_BY_DATABASE',
  /** Storing the batch failed for a reason that may pass: connection, deadlock, timeout, a restart. */
  STORE_FAILED: 'WRITER_STORE_FAILED',
} as const
export type WriterErrorCode = (typeof WriterErrorCode)[keyof typeof WriterErrorCode]

/** Base of the family: a stable code, and whether the same work may succeed if tried again. */
export class WriterError extends Error {
  readonly code: WriterErrorCode
  readonly retriable: boolean

  constructor(code: WriterErrorCode, message: string, opts: { retriable: boolean; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'WriterError'
    this.code = code
    this.retriable = opts.retriable
  }
}

/**
 * PostgreSQL refuses these rows themselves (SQLSTATE class 22 data exception or 23 integrity
 * violation). Retrying cannot help; the offending message goes to the DLQ with the SQLSTATE.
 */
export class RowsRejectedError extends WriterError {
  readonly sqlState: string | undefined
  readonly constraint: string | undefined

  constructor(message: string, fields: { sqlState?: string; constraint?: string; cause?: unknown }) {
    super(WriterErrorCode.REJECTED_BY_DATABASE, message, { retriable: false, cause: fields.cause })
    this.name = 'RowsRejectedError'
    this.sqlState = fields.sqlState
    this.constraint = fields.constraint
  }
}

/** Everything else (connection loss, deadlock, lock timeout, a missing table): retried with back-off. */
export class StoreFailedError extends WriterError {
  constructor(message: string, cause: unknown) {
    super(WriterErrorCode.STORE_FAILED, message, { retriable: true, cause })
    this.name = 'StoreFailedError'
  }
}

/** Maps anything a store step threw into the family (a WriterError is returned as it is). */
export function toWriterError(err: unknown): WriterError {
  if (err instanceof WriterError) return err
  const pg = describePgError(err)
  if (pg.class === 'data') {
    return new RowsRejectedError(pg.message, {
      cause: err,
      ...(pg.sqlState ? { sqlState: pg.sqlState } : {}),
      ...(pg.constraint ? { constraint: pg.constraint } : {}),
    })
  }
  return new StoreFailedError(pg.message, err)
}
