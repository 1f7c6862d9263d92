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
  upsertLive: string
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

/**
 * The guarded live upsert from the batch table's newest row per device, as one statement: an UPDATE …
 * FROM of the devices already live (a join; the row is updated in place, without the tuple lock and
 * the speculative insertion ON CONFLICT pays per row), then an INSERT of the devices not live yet
 * (ON CONFLICT with the same guard covers one another writer inserted meanwhile). Newest wins: a row
 * only replaces an older one (`ts <`), re-checked on the current row after a concurrent update.
 */
export function liveUpsert(kind: ReadingKind, idColumn: string, columns: string, values: string[]): string {
  const live = `${kind}_live`
  const set = (from: string) => values.map((c) => `${c} = ${from}.${c}`).join(', ')
  return `
    WITH newest AS (
      SELECT DISTINCT ON (${idColumn}) ${columns} FROM ${kind}_batch ORDER BY ${idColumn}, ts DESC
    ), updated AS (
      UPDATE ${live} AS l SET ts = n.ts, ${set('n')}, updated_at = now()
      FROM newest n WHERE l.${idColumn} = n.${idColumn} AND l.ts < n.ts
    )
    INSERT INTO ${live} AS l (${columns}, updated_at)
    SELECT ${columns}, now() FROM newest n
    WHERE NOT EXISTS (SELECT 1 FROM ${live} x WHERE x.${idColumn} = n.${idColumn})
    ON CONFLICT (${idColumn}) DO UPDATE SET ts = excluded.ts, ${set('excluded')}, updated_at = excluded.updated_at
    WHERE l.ts < excluded.ts`
}
