// The worst moment to fail: the batch's transaction has committed, its offsets have not. The batch
// comes again and must change nothing.
import { eventually } from '@energy-ingest/testenv'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { createWriter, type Writer } from '../../src/writer.js'
import {
  assertStoredExactly,
  historyCounts,
  publishReadings,
  randomReadings,
  setupHarness,
  writerConfig,
  type Harness,
} from './helpers.js'

const DAY = 86_400_000

describe('failure between the commit and the offset commit', () => {
  let h: Harness
  let writer: Writer | undefined

  beforeAll(async () => {
    h = await setupHarness()
  })

  afterAll(async () => {
    await writer?.stop()
    await h?.close()
  })

  it('stores the redelivered batches once', async () => {
    let failures = 0
    let calls = 0
    writer = await createWriter(writerConfig(h, { KAFKA_MAX_BYTES_PER_PARTITION: '8192' }), {
      // Every third committed batch "crashes" before its offsets move (up to 6 times).
      afterCommit: () => {
        calls++
        if (failures < 6 && calls % 3 === 2) {
          failures++
          throw new Error('injected failure after commit')
        }
      },
    })
    await writer.start()
    const end = Date.now() - 60_000
    const data = randomReadings({ seed: 5, devices: 20, perDevice: 60, start: end - 20 * DAY, end })
    await publishReadings(h, 'meter', data.meters, 20)
    await publishReadings(h, 'vehicle', data.vehicles, 20)
    const total = data.meters.length + data.vehicles.length
    await eventually(
      async () => {
        const c = await historyCounts(h.pool)
        return c.meter + c.vehicle === total
      },
      { timeoutMs: 60_000, message: `all ${total} rows stored` },
    )
    // Every injected failure makes its batch come back; wait until they all did.
    const duplicates = async () =>
      (await writer!.metrics.rowsDuplicate.get()).values.reduce((sum, v) => sum + v.value, 0)
    await eventually(async () => failures > 0 && (await duplicates()) > 0, {
      timeoutMs: 30_000,
      message: 'redelivered batches skipped as duplicates',
    })

    await assertStoredExactly(h.pool, data.meters, data.vehicles)
  })
})
