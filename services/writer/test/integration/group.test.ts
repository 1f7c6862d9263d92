// Two writers in one consumer group: they split the partitions; stopping one mid-stream moves its
// partitions to the other; nothing is lost or stored twice.
import { eventually } from '@energy-ingest/testenv'
import { AssignerProtocol } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWriter, type Writer } from '../../src/writer.js'
import {
  PARTITIONS,
  assertStoredExactly,
  historyCounts,
  publishReadings,
  randomReadings,
  setupHarness,
  writerConfig,
  type Harness,
} from './helpers.js'

const DAY = 86_400_000

async function inserted(writer: Writer): Promise<number> {
  const { values } = await writer.metrics.rowsInserted.get()
  return values.reduce((sum, v) => sum + v.value, 0)
}

describe('two writers in one group', () => {
  let h: Harness
  const writers: Writer[] = []

  beforeAll(async () => {
    h = await setupHarness()
  })

  afterAll(async () => {
    for (const w of writers) await w.stop().catch(() => {})
    await h?.close()
  })

  /** Partitions of the meter topic per member, from the group coordinator. */
  async function assignment(): Promise<number[][]> {
    const admin = h.kafka.admin()
    await admin.connect()
    try {
      const { groups } = await admin.describeGroups([`${h.prefix}energy-writer`])
      return (groups[0]?.members ?? []).map(
        (m) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[h.topics.meter] ?? [],
      )
    } finally {
      await admin.disconnect()
    }
  }

  it('split the partitions, and one takes over when the other stops mid-stream', async () => {
    const config = writerConfig(h, {
      KAFKA_MAX_BYTES_PER_PARTITION: '8192',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
    })
    for (let i = 0; i < 2; i++) {
      const w = await createWriter(config)
      writers.push(w)
      await w.start()
    }
    const split = await eventually(
      async () => {
        const parts = await assignment()
        return parts.length === 2 && parts.every((p) => p.length > 0) ? parts : false
      },
      { timeoutMs: 30_000, message: 'both members own partitions' },
    )
    expect(split.flat().sort((a, b) => a - b)).toEqual([...Array(PARTITIONS).keys()])

    const end = Date.now() - 60_000
    const data = randomReadings({ seed: 77, devices: 36, perDevice: 100, start: end - 40 * DAY, end })
    await publishReadings(h, 'meter', data.meters, 20)
    await publishReadings(h, 'vehicle', data.vehicles, 20)
    const total = data.meters.length + data.vehicles.length

    await eventually(
      async () => {
        const c = await historyCounts(h.pool)
        return (
          c.meter + c.vehicle >= total * 0.25 &&
          (await inserted(writers[0]!)) > 0 &&
          (await inserted(writers[1]!)) > 0
        )
      },
      { timeoutMs: 30_000, intervalMs: 20, message: 'both writers storing' },
    )
    const [first, second] = writers as [Writer, Writer]
    await first.stop() // graceful: finishes its batches, commits, leaves the group
    writers.shift()
    await eventually(
      async () => {
        const parts = await assignment()
        return parts.length === 1 && parts[0]!.length === PARTITIONS
      },
      { timeoutMs: 30_000, message: 'the remaining writer owns every partition' },
    )

    await eventually(
      async () => {
        const c = await historyCounts(h.pool)
        return c.meter + c.vehicle === total
      },
      { timeoutMs: 60_000, message: `all ${total} rows stored` },
    )
    await assertStoredExactly(h.pool, data.meters, data.vehicles)
    expect(await inserted(second)).toBeGreaterThan(0)
  })
})
