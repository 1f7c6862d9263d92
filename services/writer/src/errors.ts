// Error codes of the writer and how a failed batch is handled.

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
} as const
export type WriterErrorCode = (typeof WriterErrorCode)[keyof typeof WriterErrorCode]

export interface PgErrorFields {
  code?: string
  constraint?: string
  message: string
}

function fieldsOf(err: unknown): PgErrorFields {
  if (typeof err !== 'object' || err === null) return { message: String(err) }
  const e = err as { code?: unknown; constraint?: unknown; message?: unknown }
  return {
    code: typeof e.code === 'string' ? e.code : undefined,
    constraint: typeof e.constraint === 'string' ? e.constraint : undefined,
    message: typeof e.message === 'string' ? e.message : String(err),
  }
}

/**
 * A data error: PostgreSQL refuses these rows themselves (SQLSTATE class 22 data exception or 23
 * integrity violation). Retrying cannot help; the offending message goes to the DLQ with the code.
 */
export function isDataError(err: unknown): boolean {
  const code = fieldsOf(err).code
  return code !== undefined && /^2[23]/.test(code)
}

/** Everything else (connection loss, deadlock, lock timeout, a missing table) is retried with back-off. */
export function isRetriable(err: unknown): boolean {
  return !isDataError(err)
}

export function pgErrorFields(err: unknown): PgErrorFields {
  return fieldsOf(err)
}
