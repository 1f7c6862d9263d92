// ENERGY_MAX_POWER_KW reaches the register derivation: the same register increases, stored by a writer
// on the default ceiling (400 kW) and then by one on 50 kW, are counted by the first and flagged
// suspect (counting 0) by the second.
import type { MeterReading } from '@energy-ingest/contracts'
import { eventually } from '@energy-ingest/testenv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWriter, type Writer } from '../../src/writer.js'
import { publishReadings, setupHarness, writerConfig, type Harness } from './helpers.js'

const MIN = 60_000
const START = Date.parse('2026-03-02T08:00:00Z')

/** 0 → 0.5 → 1.5 kWh one minute apart: 30 kW, then 60 kW. */
const registers = (meterId: string, start: number): MeterReading[] =>
  [0, 0.5, 1.5].map((energyRegisterKwh, i) => ({
    meterId,
    energyRegisterKwh,
    voltage: 230,
    timestamp: new Date(start + i * MIN).toISOString(),
  }))

describe('the power ceiling setting', () => {
  let h: Harness
  let writer: Writer | undefined

  beforeAll(async () => {
    h = await setupHarness()
  })

  afterAll(async () => {
    await writer?.stop()
    await h?.close()
  })

  async function stored(meterId: string) {
    return eventually(
      async () => {
        const { rows } = await h.pool.query<{ kwh: string; flags: string[] | null }>(
          `SELECT kwh_consumed_ac::text AS kwh, energy_flags AS flags FROM meter_history
           WHERE meter_id = $1 ORDER BY ts`,
          [meterId],
        )
        return rows.length === 3 ? rows.map((r) => ({ kwh: r.kwh, flags: r.flags ?? [] })) : undefined
      },
      { timeoutMs: 45_000, message: `3 register readings of ${meterId} stored` },
    )
  }

  async function runWriter(extra: Record<string, string>, meterId: string) {
    // Both writers share the group: the second one starts at the first one's committed offsets.
    writer = await createWriter(writerConfig(h, extra), { now: () => new Date(START + 10 * MIN) })
    await writer.start()
    await publishReadings(h, 'meter', registers(meterId, START), 50, new Date(START + 10 * MIN).toISOString())
    const rows = await stored(meterId)
    await writer.stop()
    writer = undefined
    return rows
  }

  it('flags as suspect what exceeds ENERGY_MAX_POWER_KW, and only that', async () => {
    expect(await runWriter({}, 'CEIL-DEFAULT')).toEqual([
      { kwh: '0', flags: ['first'] },
      { kwh: '0.5', flags: [] },
      { kwh: '1', flags: [] },
    ])
    expect(await runWriter({ ENERGY_MAX_POWER_KW: '50' }, 'CEIL-50')).toEqual([
      { kwh: '0', flags: ['first'] },
      { kwh: '0.5', flags: [] },
      { kwh: '0', flags: ['suspect'] },
    ])
  })
})
