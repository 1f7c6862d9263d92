import {
  GroupNotWritableError,
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

/** The fleet shard of a write's rows: one for all, or runs of rows per shard (a group). */
type Shards = { shard: number } | { parts: { shard: number; rows: number }[] }

async function writeRows(
  client: DbClient,
  kind: TopicKind,
  rows: unknown[],
  shards: Shards,
  opts: StoreOptions,
): Promise<Stored> {
  if (kind === 'meter') return writeMeterBatch(client, rows as MeterRow[], { ...shards, ...opts })
  if (kind === 'vehicle') return writeVehicleBatch(client, rows as VehicleRow[], shards)
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
    return await writeRows(client, kind, rows, { shard }, opts)
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

/** One partition's batch, waiting to be stored with others of its kind (storeGroup). */
export interface GroupEntry {
  messages: MessageRows<TopicKind>[]
  shard: number
  /** Rows in its messages. */
  rows: number
}

/**
 * Stores the batches of several partitions of one kind in one transaction (WriteOptions.parts): each
 * pays the transaction, its fixed statements and its commit once for all. Returns each batch's
 * result, in order, or null when the group cannot be written together (a row stored already, register
 * readings, or rows PostgreSQL refuses): nothing was written, and each batch is to be stored on its own
 * (storeBatch). A retriable error is thrown for the caller to retry.
 */
export async function storeGroup(
  pool: Pool,
  kind: 'meter' | 'vehicle',
  entries: GroupEntry[],
  opts: StoreOptions = {},
): Promise<StoreResult[] | null> {
  const parts = entries.map((e) => ({ shard: e.shard, rows: e.rows }))
  const rows = entries.flatMap((e) => e.messages.flatMap((m) => m.rows))
  // Register readings take the per-meter path one batch at a time: no need to plan the group to know.
  if (kind === 'meter' && (rows as MeterRow[]).some((r) => r.energyRegisterKwh !== undefined)) return null
  let written: Stored
  try {
    written = await withClient(pool, (client) => writeRows(client, kind, rows, { parts }, opts))
  } catch (err) {
    if (err instanceof GroupNotWritableError) return null
    const failure = toWriterError(err)
    if (failure.retriable) throw failure
    return null
  }
  // Every row of a group is new: each batch inserted all of its rows.
  return entries.map((e, i) => ({
    inserted: e.rows,
    duplicates: 0,
    partitionsCreated: i === 0 ? written.partitionsCreated : [],
    rejected: [],
  }))
}
