// The batches of several partitions handed in together are stored in one transaction per kind, and
// the result is what storing each alone gives: history and live exact, each partition's fleet minutes
// in its own shard.
import { partitionForKey } from '@energy-ingest/contracts'
import { eventually } from '@energy-ingest/testenv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWriter, type Writer } from '../../src/writer.js'
import {
  PARTITIONS,
  assertStoredExactly,
  historyCounts,
  holdVehicleRollupLock,
  publishReadings,
  randomReadings,
  setupHarness,
  untilAStoreWaitsOnTheLock,
  writerConfig,
  type Harness,
} from './helpers.js'

const DAY = 86_400_000

/** Sum and count of a histogram's observations. */
async function observed(histogram: {
  get(): Promise<{ values: { value: number; metricName?: string }[] }>
}): Promise<{ sum: number; count: number }> {
  const { values } = await histogram.get()
  const total = (suffix: string) =>
    values.filter((v) => v.metricName?.endsWith(suffix)).reduce((s, v) => s + v.value, 0)
  return { sum: total('_sum'), count: total('_count') }
}

describe('batches of several partitions in one transaction', () => {
  let h: Harness
  let writer: Writer | undefined
  let locker: Awaited<ReturnType<typeof holdVehicleRollupLock>> | undefined

  beforeAll(async () => {
    h = await setupHarness()
  })

  afterAll(async () => {
    await locker?.end()
    await writer?.stop()
    await h?.close()
  })

  it('stores what waited behind a store together, exactly, each partition in its own fleet shard', async () => {
    writer = await createWriter(writerConfig(h))
    await writer.start()
    const end = Date.now() - 60_000
    const first = randomReadings({ seed: 21, devices: 30, perDevice: 4, start: end - 2 * DAY, end })
    await publishReadings(h, 'vehicle', first.vehicles)
    await eventually(async () => (await historyCounts(h.pool)).vehicle === first.vehicles.length, {
      timeoutMs: 60_000,
      message: 'the first readings stored',
    })

    // Held as closeHours() holds it: the next vehicle store waits, and what is handed in meanwhile gathers.
    locker = await holdVehicleRollupLock(h)
    const second = randomReadings({ seed: 22, devices: 30, perDevice: 4, start: end - DAY, end })
    const third = randomReadings({
      seed: 23,
      devices: 30,
      perDevice: 4,
      start: end - 3 * DAY,
      end: end - 2 * DAY,
    })
    await publishReadings(h, 'vehicle', second.vehicles)
    await untilAStoreWaitsOnTheLock(h)
    await publishReadings(h, 'vehicle', third.vehicles)
    await locker.release()

    const all = [...first.vehicles, ...second.vehicles, ...third.vehicles]
    await eventually(async () => (await historyCounts(h.pool)).vehicle === all.length, {
      timeoutMs: 60_000,
      message: 'every reading stored',
    })
    await assertStoredExactly(h.pool, [], all)
    expect((await writer.metrics.rowsDuplicate.get()).values.reduce((s, v) => s + v.value, 0)).toBe(0)
    // Some transaction held the batches of more than one partition.
    const groups = await observed(writer.metrics.batchesPerTransaction)
    expect(groups.sum).toBeGreaterThan(groups.count)

    // Each partition's readings are counted in its own shard's fleet minutes.
    const want = new Map<string, number>()
    for (const r of all) {
      const key = `${partitionForKey(r.vehicleId, PARTITIONS)} ${r.timestamp.slice(0, 16)}`
      want.set(key, (want.get(key) ?? 0) + 1)
    }
    const { rows } = await h.pool.query<{ shard: number; minute: string; n: number }>(
      `SELECT shard, to_char(minute AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') AS minute, readings::int AS n
         FROM vehicle_fleet_minutely`,
    )
    expect(new Map(rows.map((r) => [`${r.shard} ${r.minute}`, r.n]))).toEqual(want)
  })
})
