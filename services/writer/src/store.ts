import {
  upsertAssignments,
  writeMeterBatch,
  writeVehicleBatch,
  type AssignmentRow,
  type DbClient,
  type MeterRow,
  type VehicleRow,
} from '@energy-ingest/db'
import type { Pool, PoolClient } from 'pg'
import type { MessageRows, TopicKind } from './decode.js'
import { isDataError } from './errors.js'

export interface StoreResult {
  inserted: number
  duplicates: number
  partitionsCreated: string[]
  /** Messages PostgreSQL refused on their own (data errors), with the error. */
  rejected: { message: MessageRows<TopicKind>; err: unknown }[]
}

/** Options of the meter write that come from the writer's settings. */
export interface StoreOptions {
  /** Power ceiling of the register `suspect` rule, kW (default: the db package's, 400). */
  maxPowerKw?: number
}

async function writeRows(
  client: DbClient,
  kind: TopicKind,
  rows: unknown[],
  shard: number,
  opts: StoreOptions,
) {
  if (kind === 'meter') return writeMeterBatch(client, rows as MeterRow[], { shard, ...opts })
  if (kind === 'vehicle') return writeVehicleBatch(client, rows as VehicleRow[], { shard })
  await client.query('BEGIN')
  try {
    await upsertAssignments(client, rows as AssignmentRow[])
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  }
  return { inserted: rows.length, duplicates: 0, partitionsCreated: [] as string[] }
}

/** A client whose connection failed must not go back to the pool. */
function releaseAfter(client: PoolClient, err: unknown) {
  const sqlState = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : ''
  client.release(err !== undefined && !/^[0-9A-Z]{5}$/.test(sqlState) ? (err as Error) : undefined)
}

/**
 * Stores the rows of a batch's messages in one transaction. If PostgreSQL refuses the rows (a data
 * error, not retriable), stores message by message instead, so only the offending messages are
 * returned as rejected; any other error is thrown for the caller to retry.
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
  const client = await pool.connect()
  let failure: unknown
  try {
    const add = (r: { inserted: number; duplicates: number; partitionsCreated: string[] }) => {
      result.inserted += r.inserted
      result.duplicates += r.duplicates
      result.partitionsCreated.push(...r.partitionsCreated)
    }
    try {
      add(
        await writeRows(
          client,
          kind,
          messages.flatMap((m) => m.rows),
          shard,
          opts,
        ),
      )
    } catch (err) {
      if (!isDataError(err)) throw err
      for (const message of messages) {
        try {
          add(await writeRows(client, kind, message.rows, shard, opts))
        } catch (one) {
          if (!isDataError(one)) throw one
          result.rejected.push({ message, err: one })
        }
      }
    }
    return result
  } catch (err) {
    failure = err
    throw err
  } finally {
    releaseAfter(client, failure)
  }
}
