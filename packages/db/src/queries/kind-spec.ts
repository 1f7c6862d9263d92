import type { RegisterKey } from '../register-pass.js'
import type { ReadingKind } from '../types.js'

/**
 * Everything the generic write path needs to know about one reading kind. Every statement after the
 * COPY works set-wise on the session's temp batch table (`<kind>_batch`), so no value is sent twice
 * and no array parameter has to be parsed.
 */
export interface KindSpec<Row> {
  kind: ReadingKind
  /** Fields in history column order: [device id, ts, ...values, received_at]. */
  fields(row: Row): (string | null)[]
  timestamp(row: Row): string
  copyHistory: string
  createBatchTable: string
  /** COPY of (n, ...history columns) into the batch table. */
  copyBatch: string
  /** Plain INSERT of the whole batch into history (fails on a duplicate: the optimistic path). */
  insertAll: string
  /** Keeps the first occurrence (lowest n) of each (device, ts) in the batch table. */
  dedupeBatch: string
  /** INSERT … ON CONFLICT DO NOTHING, then deletes the rows that were not inserted from the batch table. */
  insertNew: string
  /** $1 shard: folds the batch table into the fleet rollup. */
  foldFleet: string
  /** $1 shard, $2 minutes, $3 readings, then one pre-summed numeric array per fleetColumns entry. */
  foldFleetSums: string
  /** Indices (in fields()) of the values the fleet rollup sums. */
  fleetColumns: number[]
  /** Empties the batch table within the transaction. */
  clearBatch: string
  /** $1 watermark: folds batch rows with ts < $1 into *_hourly. */
  foldLate: string
  /** The guarded live upsert from the batch table; see liveStatements. */
  live: LiveStatements
  /** Recomputes the hourly rows of [$1, $2) from history (closeHours). */
  materializeHourly: string
  /** Meters only: the key of a cumulative-register reading (its energy is derived), else undefined. */
  registerKey?: (row: Row) => RegisterKey | undefined
}

/**
 * The history statements that differ between kinds only by table, id column and column list:
 * COPY into history or into the batch table, the optimistic insert, and the deduplicating fallback.
 */
export function historyStatements(kind: ReadingKind, idColumn: string, columns: string) {
  const history = `${kind}_history`
  const batch = `${kind}_batch`
  return {
    copyHistory: `COPY ${history} (${columns}) FROM STDIN`,
    copyBatch: `COPY ${batch} (n, ${columns}) FROM STDIN`,
    insertAll: `INSERT INTO ${history} (${columns}) SELECT ${columns} FROM ${batch}`,
    dedupeBatch: `
    DELETE FROM ${batch} WHERE n IN (
      SELECT n FROM (
        SELECT n, row_number() OVER (PARTITION BY ${idColumn}, ts ORDER BY n) AS rn FROM ${batch}
      ) d WHERE rn > 1)`,
    insertNew: `
    WITH ins AS (
      INSERT INTO ${history} (${columns}) SELECT ${columns} FROM ${batch}
      ON CONFLICT (${idColumn}, ts) DO NOTHING
      RETURNING ${idColumn}, ts)
    DELETE FROM ${batch} b
    WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.${idColumn} = b.${idColumn} AND ins.ts = b.ts)`,
    clearBatch: `DELETE FROM ${batch}`,
  }
}

/** The live upsert's statements (liveStatements), each with the batch table read as-is or newest-only. */
export interface LiveStatements {
  /** Moves live rows forward to the batch's newer readings; rowCount: the devices moved. */
  update: { distinct: string; newest: string }
  /** Inserts the devices not live yet (a guarded ON CONFLICT covers one another writer just inserted). */
  insert: { distinct: string; newest: string }
}

/**
 * The guarded live upsert from the batch table, as an UPDATE … FROM of the devices already live (a
 * join; each row is updated in place, HOT, without the tuple lock and speculative insertion that
 * ON CONFLICT pays per row), and only when it moved fewer devices than the batch has, an INSERT of
 * the devices not live yet. Newest wins: a row only replaces an older one (`ts <`), which UPDATE
 * re-checks on the current row after waiting for a concurrent writer. `distinct`: the batch table
 * holds one row per device, read as-is; `newest`: it may hold several, DISTINCT ON picks the newest.
 */
export function liveStatements(
  kind: ReadingKind,
  idColumn: string,
  columns: string,
  values: string[],
): LiveStatements {
  const live = `${kind}_live`
  const set = (from: string) => values.map((c) => `${c} = ${from}.${c}`).join(', ')
  const sources = {
    distinct: `${kind}_batch`,
    newest: `(SELECT DISTINCT ON (${idColumn}) ${columns} FROM ${kind}_batch ORDER BY ${idColumn}, ts DESC)`,
  }
  const update = (from: string) => `
    UPDATE ${live} AS l SET ts = n.ts, ${set('n')}, updated_at = now()
    FROM ${from} n WHERE l.${idColumn} = n.${idColumn} AND l.ts < n.ts`
  const insert = (from: string) => `
    INSERT INTO ${live} AS l (${columns}, updated_at)
    SELECT ${columns}, now() FROM ${from} n
    WHERE NOT EXISTS (SELECT 1 FROM ${live} x WHERE x.${idColumn} = n.${idColumn})
    ON CONFLICT (${idColumn}) DO UPDATE SET ts = excluded.ts, ${set('excluded')}, updated_at = excluded.updated_at
    WHERE l.ts < excluded.ts`
  return {
    update: { distinct: update(sources.distinct), newest: update(sources.newest) },
    insert: { distinct: insert(sources.distinct), newest: insert(sources.newest) },
  }
}
