import {
  upsertAssignments,
  withClient,
  withTransaction,
  writeMeterBatch,
  writeVehicleBatch,
  type AssignmentRow,
  type DbClient,
  type MeterRow,
  type VehicleRow,
} from '@energy-ingest/db'
import type { Pool } from 'pg'
import type { MessageRows, TopicKind } from './decode.js'
import { RowsRejectedError, toWriterError } from './errors.js'

export interface StoreResult {
  inserted: number
  duplicates: number
  partitionsCreated: string[]
  /** Messages PostgreSQL refused on their own (data errors), with the error. */
  rejected: { message: MessageRows<TopicKind>; err: RowsRejectedError }[]
}

/** Options of the meter write that come from the writer's settings. */
export interface StoreOptions {
  /** Power ceiling of the register `suspect` rule, kW (default: the db package's, 400). */
  maxPowerKw?: number
}

type Stored = Pick<StoreResult, 'inserted' | 'duplicates' | 'partitionsCreated'>

async function writeRows(
  client: DbClient,
  kind: TopicKind,
  rows: unknown[],
  shard: number,
  opts: StoreOptions,
): Promise<Stored> {
  if (kind === 'meter') return writeMeterBatch(client, rows as MeterRow[], { shard, ...opts })
  if (kind === 'vehicle') return writeVehicleBatch(client, rows as VehicleRow[], { shard })
  await withTransaction(client, () => upsertAssignments(client, rows as AssignmentRow[]))
  return { inserted: rows.length, duplicates: 0, partitionsCreated: [] }
}

/** writeRows, with whatever it throws mapped into the writer's error family. */
async function tryWrite(
  client: DbClient,
  kind: TopicKind,
  rows: unknown[],
  shard: number,
  opts: StoreOptions,
): Promise<Stored> {
  try {
    return await writeRows(client, kind, rows, shard, opts)
  } catch (err) {
    throw toWriterError(err)
  }
}

/**
 * Stores the rows of a batch's messages in one transaction. If PostgreSQL refuses the rows (a data
 * error, not retriable), stores message by message instead, so only the offending messages are
 * returned as rejected; a retriable error (StoreFailedError) is thrown for the caller to retry.
 */
export async function storeBatch(
  pool: Pool,
  kind: TopicKind,
  messages: MessageRows<TopicKind>[],
  shard: number,
  opts: StoreOptions = {},
): Promise<StoreResult> {
  const result: StoreResult = { inserted: 0, duplicates: 0, partitionsCreated: [], rejected: [] }
  if (messages.length === 0) return result
  const add = (r: Stored) => {
    result.inserted += r.inserted
    result.duplicates += r.duplicates
    result.partitionsCreated.push(...r.partitionsCreated)
  }
  await withClient(pool, async (client) => {
    try {
      add(
        await tryWrite(
          client,
          kind,
          messages.flatMap((m) => m.rows),
          shard,
          opts,
        ),
      )
      return
    } catch (err) {
      if (toWriterError(err).retriable) throw err
    }
    for (const message of messages) {
      try {
        add(await tryWrite(client, kind, message.rows, shard, opts))
      } catch (one) {
        const failure = toWriterError(one)
        if (!(failure instanceof RowsRejectedError)) throw failure
        result.rejected.push({ message, err: failure })
      }
    }
  })
  return result
}
