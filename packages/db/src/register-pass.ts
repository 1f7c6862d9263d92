// The register pass of a meter write transaction: derives the interval energy of register readings
// (register-energy.ts) and keeps history and every rollup equal to it.
//
// Register rows are inserted like interval rows, with kwh_consumed_ac 0, and folded as 0 into the fleet
// minute rollup, the late-row hourly fold and live. Then, in the same transaction:
//
// 1. lockRegisterMeters (before the insert): a transaction-scoped advisory lock per register meter of
//    the batch, in hash order. A meter's partition has one writer at a time; the lock keeps the pass
//    correct when two writers briefly hold the same partition (rebalance, redelivery): the second waits
//    for the first to commit, and its recomputation (a later statement, READ COMMITTED) sees the
//    first's rows.
// 2. FETCH: for every register reading of the batch (inserted or already stored), the stored register
//    readings of its meter from CONTEXT_BEFORE before it to CONTEXT_AFTER after it, with their current
//    derived value and flags.
// 3. In JS: for each batch reading at index k of its meter's fetched sequence, the derived value of
//    k-1 … k+2 (the only readings whose value an insertion at k can change; each reads k-3 … k+3).
// 4. APPLY, one statement, only for rows whose value or flags differ from what is stored: update the
//    history rows; add the energy differences to meter_fleet_minutely (this batch's shard), to
//    meter_hourly for hours before the watermark (with the flag count differences); set meter_live's
//    energy when its row changed. Hours at or after the watermark are materialised from history later.
//
// Because each derived value is a function of the final sequence only, and every insertion recomputes
// every value it can change, history holds the same values whatever the arrival order; rollups are
// folded with differences to what was stored, so they stay equal to history. A redelivered batch
// recomputes the same values and changes nothing.
import { microsOf } from './copy-text.js'
import {
  AFFECTED_OFFSETS,
  CONTEXT_AFTER,
  CONTEXT_BEFORE,
  ENERGY_FLAGS,
  compareDecimal,
  deriveRegisterEnergyAt,
  flagsLiteral,
  subtractDecimal,
  type DeriveOptions,
  type EnergyFlag,
  type RegisterPoint,
} from './register-energy.js'
import type { DbClient } from './types.js'

/** Advisory lock namespace of per-meter register locks (key: hashtext(meter id)). */
export const REGISTER_LOCK_NAMESPACE = 0x45_4e_52_47 // 'ENRG'

const LOCK = `
  SELECT count(pg_advisory_xact_lock($1, h)) FROM (
    SELECT DISTINCT hashtext(id) AS h FROM unnest($2::text[]) AS id ORDER BY 1
  ) locks`

const UTC_TEXT = `to_char(h.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

const FETCH = `
  WITH b AS (SELECT DISTINCT meter_id, ts FROM unnest($1::text[], $2::timestamptz[]) AS b(meter_id, ts))
  SELECT DISTINCT w.meter_id, w.ts, w.reg, w.kwh, w.flags FROM b CROSS JOIN LATERAL (
    (SELECT h.meter_id, ${UTC_TEXT} AS ts, h.energy_register_kwh::text AS reg,
            h.kwh_consumed_ac::text AS kwh, h.energy_flags AS flags
       FROM meter_history h
      WHERE h.meter_id = b.meter_id AND h.ts < b.ts AND h.energy_register_kwh IS NOT NULL
      ORDER BY h.ts DESC LIMIT ${CONTEXT_BEFORE})
    UNION ALL
    (SELECT h.meter_id, ${UTC_TEXT}, h.energy_register_kwh::text, h.kwh_consumed_ac::text, h.energy_flags
       FROM meter_history h
      WHERE h.meter_id = b.meter_id AND h.ts >= b.ts AND h.energy_register_kwh IS NOT NULL
      ORDER BY h.ts LIMIT ${CONTEXT_AFTER + 1})
  ) w`

// $1 shard, $2 watermark ('infinity' in per-batch mode), then one array per change column.
const APPLY = `
  WITH c AS (
    SELECT * FROM unnest($3::text[], $4::timestamptz[], $5::numeric[], $6::text[], $7::numeric[],
                         $8::int[], $9::int[], $10::int[])
      AS c(meter_id, ts, kwh, flags, delta, d_reset, d_placeholder, d_suspect)
  ), hist AS (
    UPDATE meter_history h SET kwh_consumed_ac = c.kwh, energy_flags = c.flags::text[]
    FROM c WHERE h.meter_id = c.meter_id AND h.ts = c.ts
    RETURNING 1
  ), fleet AS (
    INSERT INTO meter_fleet_minutely AS f (minute, shard, readings, kwh_consumed_ac_sum)
    SELECT date_trunc('minute', ts, 'UTC'), $1, 0, sum(delta) FROM c GROUP BY 1 ORDER BY 1
    ON CONFLICT (minute, shard) DO UPDATE SET
      kwh_consumed_ac_sum = f.kwh_consumed_ac_sum + excluded.kwh_consumed_ac_sum
    RETURNING 1
  ), hourly AS (
    UPDATE meter_hourly h SET
      kwh_consumed_ac_sum = h.kwh_consumed_ac_sum + d.delta,
      energy_resets = h.energy_resets + d.d_reset,
      energy_placeholders = h.energy_placeholders + d.d_placeholder,
      energy_suspects = h.energy_suspects + d.d_suspect
    FROM (
      SELECT meter_id, date_trunc('hour', ts, 'UTC') AS hour, sum(delta) AS delta,
             sum(d_reset)::int AS d_reset, sum(d_placeholder)::int AS d_placeholder,
             sum(d_suspect)::int AS d_suspect
      FROM c WHERE ts < $2::timestamptz GROUP BY 1, 2
    ) d
    WHERE h.meter_id = d.meter_id AND h.hour = d.hour
    RETURNING 1
  ), live AS (
    UPDATE meter_live l SET kwh_consumed_ac = c.kwh
    FROM c WHERE l.meter_id = c.meter_id AND l.ts = c.ts
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM hist)::int AS history, (SELECT count(*) FROM hourly)::int AS hourly`

export interface RegisterKey {
  meterId: string
  /** Normalised UTC timestamp. */
  timestamp: string
}

export interface RegisterPassOptions extends DeriveOptions {
  shard: number
  /** The watermark as a timestamptz literal ('infinity' in per-batch mode). */
  watermark: string
}

export interface RegisterPassResult {
  /** Rows whose derived energy or flags changed (inserted register rows included). */
  changed: number
  /** Closed hourly rows adjusted. */
  hourlyRows: number
}

/** Takes the per-meter register locks of `meterIds` (call right after BEGIN, before the insert). */
export async function lockRegisterMeters(client: DbClient, meterIds: Iterable<string>): Promise<void> {
  const ids = [...new Set(meterIds)]
  if (ids.length > 0) await client.query(LOCK, [REGISTER_LOCK_NAMESPACE, ids])
}

interface Stored extends RegisterPoint {
  ts: string
  kwh: string
  flags: EnergyFlag[]
}

const flagKey = (flags: readonly string[]) => [...flags].sort().join(',')
const has = (flags: readonly string[], f: EnergyFlag) => (flags.includes(f) ? 1 : 0)

/** The stored register readings of the batch's meters, per meter in time order, and each one's index. */
async function fetchStored(
  client: DbClient,
  keys: readonly RegisterKey[],
): Promise<{ byMeter: Map<string, Stored[]>; indexOf: Map<string, Map<number, number>> }> {
  const fetched = await client.query<{
    meter_id: string
    ts: string
    reg: string
    kwh: string
    flags: string[] | null
  }>(FETCH, [keys.map((k) => k.meterId), keys.map((k) => k.timestamp)])

  const byMeter = new Map<string, Stored[]>()
  for (const r of fetched.rows) {
    let list = byMeter.get(r.meter_id)
    if (!list) byMeter.set(r.meter_id, (list = []))
    list.push({
      ts: r.ts,
      tsMicros: microsOf(r.ts),
      registerKwh: r.reg,
      kwh: r.kwh,
      flags: (r.flags ?? []) as EnergyFlag[],
    })
  }
  const indexOf = new Map<string, Map<number, number>>()
  for (const [id, list] of byMeter) {
    list.sort((a, b) => a.tsMicros - b.tsMicros)
    indexOf.set(id, new Map(list.map((p, i) => [p.tsMicros, i])))
  }
  return { byMeter, indexOf }
}

/** Per meter, the indexes of the stored readings whose derived energy a key of the batch may change. */
function affectedIndexes(
  keys: readonly RegisterKey[],
  byMeter: Map<string, Stored[]>,
  indexOf: Map<string, Map<number, number>>,
): Map<string, Set<number>> {
  const affected = new Map<string, Set<number>>()
  for (const k of keys) {
    const at = indexOf.get(k.meterId)?.get(microsOf(k.timestamp))
    if (at === undefined) continue // stored as an interval reading (same key, sent before): nothing to derive
    const n = byMeter.get(k.meterId)!.length
    let set = affected.get(k.meterId)
    if (!set) affected.set(k.meterId, (set = new Set()))
    for (const d of AFFECTED_OFFSETS) if (at + d >= 0 && at + d < n) set.add(at + d)
  }
  return affected
}

/** The APPLY statement's array parameters: one entry per row whose derived energy or flags changed. */
interface Changes {
  id: string[]
  ts: string[]
  kwh: string[]
  flags: (string | null)[]
  delta: string[]
  reset: number[]
  placeholder: number[]
  suspect: number[]
}

/** Derives the affected readings again, in meter then time order, and keeps those that changed. */
function changedRows(
  affected: Map<string, Set<number>>,
  byMeter: Map<string, Stored[]>,
  opts: DeriveOptions,
): Changes {
  const c: Changes = {
    id: [],
    ts: [],
    kwh: [],
    flags: [],
    delta: [],
    reset: [],
    placeholder: [],
    suspect: [],
  }
  for (const [id, set] of [...affected].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    const list = byMeter.get(id)!
    for (const j of [...set].sort((a, b) => a - b)) {
      const now = deriveRegisterEnergyAt(list, j, opts)
      const was = list[j]!
      if (compareDecimal(now.kwh, was.kwh) === 0 && flagKey(now.flags) === flagKey(was.flags)) continue
      c.id.push(id)
      c.ts.push(was.ts)
      c.kwh.push(now.kwh)
      c.flags.push(flagsLiteral(ENERGY_FLAGS.filter((f) => now.flags.includes(f))))
      c.delta.push(subtractDecimal(now.kwh, was.kwh))
      c.reset.push(has(now.flags, 'reset') - has(was.flags, 'reset'))
      c.placeholder.push(has(now.flags, 'placeholder') - has(was.flags, 'placeholder'))
      c.suspect.push(has(now.flags, 'suspect') - has(was.flags, 'suspect'))
    }
  }
  return c
}

/** Steps 2–4 above for the register readings `keys` of the batch (after the insert). */
export async function registerPass(
  client: DbClient,
  keys: readonly RegisterKey[],
  opts: RegisterPassOptions,
): Promise<RegisterPassResult> {
  if (keys.length === 0) return { changed: 0, hourlyRows: 0 }
  const { byMeter, indexOf } = await fetchStored(client, keys)
  const c = changedRows(affectedIndexes(keys, byMeter, indexOf), byMeter, opts)
  if (c.id.length === 0) return { changed: 0, hourlyRows: 0 }
  const applied = await client.query<{ history: number; hourly: number }>(APPLY, [
    opts.shard,
    opts.watermark,
    c.id,
    c.ts,
    c.kwh,
    c.flags,
    c.delta,
    c.reset,
    c.placeholder,
    c.suspect,
  ])
  return { changed: applied.rows[0]?.history ?? 0, hourlyRows: applied.rows[0]?.hourly ?? 0 }
}
