import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { from as copyFrom } from 'pg-copy-streams'
import { copyRow } from './copy-text.js'
import type { DbClient } from './types.js'

const COPY_CHUNK_CHARS = 256 * 1024

/** Streams rows to a COPY … FROM STDIN; a failure on either side destroys the stream and aborts the COPY. */
export async function copyRows(
  client: DbClient,
  sql: string,
  rows: Iterable<(string | null)[]>,
): Promise<void> {
  function* chunks() {
    let chunk = ''
    for (const row of rows) {
      chunk += copyRow(row)
      if (chunk.length >= COPY_CHUNK_CHARS) {
        yield chunk
        chunk = ''
      }
    }
    if (chunk.length > 0) yield chunk
  }
  await pipeline(Readable.from(chunks()), client.query(copyFrom(sql)))
}
