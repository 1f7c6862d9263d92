// A batch whose store takes longer than the consumer-group session (a lock held by an hour closing, a
// slow disk, a machine under load) must not cost the writer its membership: otherwise the group
// evicts it, the batch's offset commit fails, the batch comes again and, if it is as slow again, the
// partition never moves on.
import { eventually } from '@energy-ingest/testenv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWriter, type Writer } from '../../src/writer.js'
import {
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

const SESSION_MS = 6000
const DAY = 86_400_000

const total = async (counter: { get(): Promise<{ values: { value: number }[] }> }) =>
  (await counter.get()).values.reduce((sum, v) => sum + v.value, 0)

describe('a store slower than the session timeout', () => {
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

  it('keeps the group membership, and stores the batch once', async () => {
    writer = await createWriter(
      writerConfig(h, { KAFKA_SESSION_TIMEOUT_MS: String(SESSION_MS), KAFKA_HEARTBEAT_INTERVAL_MS: '500' }),
    )
    await writer.start()
    const end = Date.now() - 60_000
    const first = randomReadings({ seed: 7, devices: 10, perDevice: 5, start: end - 2 * DAY, end })
    await publishReadings(h, 'vehicle', first.vehicles)
    await eventually(async () => (await historyCounts(h.pool)).vehicle === first.vehicles.length, {
      timeoutMs: 60_000,
      message: 'the first readings stored',
    })
    const joins = await total(writer.metrics.groupJoins)
    expect(joins).toBeGreaterThanOrEqual(1)

    // The vehicle rollup lock, held exclusively as closeHours() holds it: the next store waits on it.
    locker = await holdVehicleRollupLock(h)
    const second = randomReadings({ seed: 8, devices: 10, perDevice: 5, start: end - DAY, end })
    await publishReadings(h, 'vehicle', second.vehicles)
    await untilAStoreWaitsOnTheLock(h)
    // The fault itself: the store stays blocked for longer than the session lasts.
    await new Promise((resolve) => setTimeout(resolve, SESSION_MS + 4000))
    await locker.release()

    const all = [...first.vehicles, ...second.vehicles]
    await eventually(async () => (await historyCounts(h.pool)).vehicle === all.length, {
      timeoutMs: 60_000,
      message: 'the second readings stored',
    })
    await assertStoredExactly(h.pool, [], all)
    // Still the same member: no rejoin, and the slow batch was not delivered a second time.
    expect(await total(writer.metrics.groupJoins)).toBe(joins)
    expect(await total(writer.metrics.rowsDuplicate)).toBe(0)
  })
})
