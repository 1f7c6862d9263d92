import type { WriterDeadLetter } from './decode.js'

/**
 * Framing of one record in a v2 record batch (length, attributes, timestamp and offset deltas, key,
 * value and header lengths as varints): at most ~40 bytes plus key, value and headers; rounded up.
 */
export const RECORD_OVERHEAD_BYTES = 64
/** The record batch header (61 bytes) and the log's offset + size prefix (12), rounded up. */
export const BATCH_OVERHEAD_BYTES = 128
/** A Kafka key of a dead letter is its source key, cut to this many characters. */
const MAX_KEY_CHARS = 1024
/** What a dead letter keeps of its reason and source key when even an empty payload leaves it too large. */
const LAST_RESORT_REASON_CHARS = 1024
const LAST_RESORT_KEY_CHARS = 256

/** A dead letter as it travels: its Kafka record and what it costs in a record batch. */
export interface EncodedDeadLetter {
  key: string | null
  value: string
  headers: Record<string, string>
  /** Upper bound of the record's size in a record batch. */
  bytes: number
  truncated: boolean
}

/** What a truncated dead letter says about the payload it lost. */
export interface TruncatedDeadLetter extends WriterDeadLetter {
  /** The payload is the first characters of the original payload's JSON text. */
  truncated: true
  /** Size in bytes of the original payload's JSON text. */
  payloadBytes: number
}

function recordBytes(key: string | null, value: string, headers: Record<string, string>): number {
  let bytes = RECORD_OVERHEAD_BYTES + Buffer.byteLength(value) + (key === null ? 0 : Buffer.byteLength(key))
  for (const [name, v] of Object.entries(headers)) bytes += Buffer.byteLength(name) + Buffer.byteLength(v)
  return bytes
}

/** The longest prefix of `text` whose JSON string form, quotes aside, takes at most `room` bytes. */
function prefixFitting(text: string, room: number): string {
  if (room <= 0) return ''
  let n = Math.min(text.length, room)
  for (;;) {
    // Never split a surrogate pair.
    if (n > 0 && /[\uD800-\uDBFF]/.test(text.charAt(n - 1))) n--
    const cost = Buffer.byteLength(JSON.stringify(text.slice(0, n))) - 2
    if (cost <= room) return text.slice(0, n)
    n = Math.max(0, Math.min(n - 1, Math.floor((n * room) / cost)))
  }
}

/**
 * The Kafka record of a dead letter whose record takes at most `maxRecordBytes`. A letter too large
 * for it keeps everything but its payload, which becomes the first characters of the payload's JSON
 * text, with `truncated: true` and `payloadBytes` (the original size). If even that does not fit
 * (a huge source key or reason), the reason and key are cut too.
 */
export function encodeDeadLetter(letter: WriterDeadLetter, maxRecordBytes: number): EncodedDeadLetter {
  const key = letter.source.key === null ? null : letter.source.key.slice(0, MAX_KEY_CHARS)
  const headers = { 'schema-version': '1', 'dead-letter-code': letter.code }
  const encoded = (value: string, truncated: boolean): EncodedDeadLetter => ({
    key,
    value,
    headers,
    bytes: recordBytes(key, value, headers),
    truncated,
  })
  const whole = encoded(JSON.stringify(letter), false)
  if (whole.bytes <= maxRecordBytes) return whole

  const payloadText = JSON.stringify(letter.payload) ?? 'null'
  const payloadBytes = Buffer.byteLength(payloadText)
  const fit = (base: TruncatedDeadLetter): EncodedDeadLetter => {
    const room = maxRecordBytes - encoded(JSON.stringify(base), true).bytes
    return encoded(JSON.stringify({ ...base, payload: prefixFitting(payloadText, room) }), true)
  }
  const cut = fit({ ...letter, payload: '', truncated: true, payloadBytes })
  if (cut.bytes <= maxRecordBytes) return cut
  const { issues: _dropped, ...rest } = letter
  return fit({
    ...rest,
    reason: letter.reason.slice(0, LAST_RESORT_REASON_CHARS),
    source: { ...letter.source, key: key === null ? null : key.slice(0, LAST_RESORT_KEY_CHARS) },
    payload: '',
    truncated: true,
    payloadBytes,
  })
}

/**
 * Splits records, in order, into groups whose total size stays within `maxBatchBytes`: sent as one
 * produce request each, no partition's record batch can exceed the topic's `max.message.bytes`,
 * wherever the records' keys send them.
 */
export function chunkByBytes<R extends { bytes: number }>(
  records: readonly R[],
  maxBatchBytes: number,
): R[][] {
  const chunks: R[][] = []
  let current: R[] = []
  let bytes = 0
  for (const record of records) {
    if (current.length > 0 && bytes + record.bytes > maxBatchBytes) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(record)
    bytes += record.bytes
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}
