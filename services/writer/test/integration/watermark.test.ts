// writer_rollup_watermark_age_seconds{kind}: how far the rollup watermark trails the writer's clock,
// refreshed on a timer. Fixed instants: the writer's clock reads 2024-03-01 12:30 UTC.
import { eventually } from '@energy-ingest/testenv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWriter, type Writer } from '../../src/writer.js'
import { setupHarness, writerConfig, type Harness } from './helpers.js'

const NOW = new Date('2024-03-01T12:30:00Z')

describe('rollup watermark age', () => {
  let h: Harness
  let writer: Writer | undefined

  beforeAll(async () => {
    h = await setupHarness()
  })

  afterAll(async () => {
    await writer?.stop()
    await h?.close()
  })

  async function ages(w: Writer): Promise<Record<string, number>> {
    const { values } = await w.metrics.rollupWatermarkAge.get()
    return Object.fromEntries(values.map((v) => [String(v.labels.kind), v.value]))
  }

  it('exports the age per kind and follows the watermark as it moves (0 in per-batch mode)', async () => {
    const setWatermark = (kind: string, closedBefore: string) =>
      h.pool.query('UPDATE rollup_watermarks SET closed_before = $2 WHERE kind = $1', [kind, closedBefore])
    await setWatermark('meter', '2024-03-01T10:00:00Z')
    await setWatermark('vehicle', 'infinity')
    writer = await createWriter(
      writerConfig(h, { ROLLUP_WATERMARK_INTERVAL_MS: '100', ROLLUP_CLOSE_INTERVAL_MS: '3600000' }),
      { now: () => NOW },
    )
    const w = writer
    await w.start()
    await eventually(
      async () => JSON.stringify(await ages(w)) === JSON.stringify({ meter: 9000, vehicle: 0 }),
      {
        message: 'ages of 2.5 h (meter) and 0 (vehicle, per-batch mode)',
      },
    )

    await setWatermark('meter', '2024-03-01T12:00:00Z')
    await setWatermark('vehicle', '2024-03-01T09:00:00Z')
    await eventually(async () => (await ages(w)).meter === 1800, { message: 'the meter age after the move' })
    expect(await ages(w)).toEqual({ meter: 1800, vehicle: 12_600 })
    const text = await (await fetch(`${w.url()}/metrics`)).text()
    expect(text).toContain('writer_rollup_watermark_age_seconds{kind="meter"} 1800')
  })
})
