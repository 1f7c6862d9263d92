import { encodeEnvelope, type MeterReading, type VehicleReading } from '@energy-ingest/contracts'
import { eventually } from '@energy-ingest/testenv'
import type { Consumer } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWriter, type Writer } from '../../src/writer.js'
import {
  closeAllHours,
  expectStoredExactly,
  historyCounts,
  hoursAgo,
  publishReadings,
  randomReadings,
  rollupDifferences,
  setupHarness,
  snapshot,
  writerConfig,
  type Harness,
} from './helpers.js'

const DAY = 86_400_000

async function counterTotal(writer: Writer, name: 'rowsInserted' | 'rowsDuplicate'): Promise<number> {
  const { values } = await writer.metrics[name].get()
  return values.reduce((sum, v) => sum + v.value, 0)
}

describe('writer', () => {
  let h: Harness
  let writer: Writer | undefined
  const sent = { meters: [] as MeterReading[], vehicles: [] as VehicleReading[] }

  const startWriter = async () => {
    writer = await createWriter(writerConfig(h))
    await writer.start()
    return writer
  }

  beforeAll(async () => {
    h = await setupHarness()
    await startWriter()
  })

  afterAll(async () => {
    await writer?.stop()
    await h?.close()
  })

  const distinct = (rs: (MeterReading | VehicleReading)[]) =>
    new Set(rs.map((r) => `${'meterId' in r ? r.meterId : r.vehicleId}|${Date.parse(r.timestamp)}`)).size

  const publishAndWait = async (meters: MeterReading[], vehicles: VehicleReading[]) => {
    sent.meters.push(...meters)
    sent.vehicles.push(...vehicles)
    await publishReadings(h, 'meter', meters)
    await publishReadings(h, 'vehicle', vehicles)
    const want = { meter: distinct(sent.meters), vehicle: distinct(sent.vehicles) }
    await eventually(async () => JSON.stringify(await historyCounts(h.pool)) === JSON.stringify(want), {
      timeoutMs: 30_000,
      message: `history counts ${JSON.stringify(want)}`,
    })
  }

  it('stores readings of several months, with duplicates and out of order, exactly; rollups equal raw history', async () => {
    const end = Date.now() - 60_000
    const data = randomReadings({ seed: 42, devices: 12, perDevice: 60, start: end - 75 * DAY, end })
    // Every 10th reading sent again later in the stream (a redelivery the broker did on its own).
    const meters = [...data.meters, ...data.meters.filter((_, i) => i % 10 === 0)]
    const vehicles = [...data.vehicles, ...data.vehicles.filter((_, i) => i % 10 === 0)]
    await publishAndWait(meters, vehicles)

    const stored = await expectStoredExactly(h.pool, sent.meters, sent.vehicles)
    expect(stored.meters.got).toEqual(stored.meters.want)
    expect(stored.vehicles.got).toEqual(stored.vehicles.want)
    expect(stored.meterLive.got).toEqual(stored.meterLive.want)
    expect(stored.vehicleLive.got).toEqual(stored.vehicleLive.want)
    expect(await counterTotal(writer!, 'rowsDuplicate')).toBe(
      meters.length + vehicles.length - distinct(meters) - distinct(vehicles),
    )

    // Rows older than the watermark were folded per batch; close the rest, then compare everything.
    await closeAllHours(h.pool)
    expect(await rollupDifferences(h.pool)).toEqual({
      meterHourly: 0,
      vehicleHourly: 0,
      meterFleet: 0,
      vehicleFleet: 0,
    })

    // Late rows for hours that are already closed are folded by the writer itself.
    const late = randomReadings({
      seed: 7,
      devices: 12,
      perDevice: 10,
      start: hoursAgo(20),
      end: hoursAgo(2),
    })
    await publishAndWait(late.meters, late.vehicles)
    expect(await rollupDifferences(h.pool)).toEqual({
      meterHourly: 0,
      vehicleHourly: 0,
      meterFleet: 0,
      vehicleFleet: 0,
    })
  })

  it('keeps live state on the newest reading when an older one arrives later, and stores both', async () => {
    const newer: MeterReading = {
      meterId: 'OOO-1',
      kwhConsumedAc: 2.5,
      voltage: 231.5,
      timestamp: new Date(hoursAgo(0) - 120_000).toISOString(),
    }
    const older: MeterReading = {
      ...newer,
      kwhConsumedAc: 1.25,
      voltage: 229,
      timestamp: new Date(hoursAgo(3)).toISOString(),
    }
    await publishAndWait([newer], [])
    await publishAndWait([older], [])
    const { rows } = await h.pool.query<{ kwh: string; v: string; ts: Date }>(
      `SELECT kwh_consumed_ac::text AS kwh, voltage::text AS v, ts FROM meter_live WHERE meter_id = 'OOO-1'`,
    )
    expect(rows).toEqual([{ kwh: '2.5', v: '231.5', ts: new Date(newer.timestamp) }])
    const history = await h.pool.query(
      `SELECT count(*)::int AS n FROM meter_history WHERE meter_id = 'OOO-1'`,
    )
    expect(history.rows[0]).toEqual({ n: 2 })
  })

  it('changes nothing when every message is consumed again (a replay from the first offsets)', async () => {
    await closeAllHours(h.pool)
    const before = await snapshot(h.pool)
    await writer!.stop()
    // A group that has committed nothing reads every partition from its first offset: the same effect
    // as resetting the offsets of the old group (which kafkajs' admin does slowly), every message again.
    writer = await createWriter(writerConfig(h, { KAFKA_GROUP_ID: `${h.prefix}energy-writer-replay` }))
    await writer.start()
    const again = writer
    const total = sent.meters.length + sent.vehicles.length
    await eventually(async () => (await counterTotal(again, 'rowsDuplicate')) === total, {
      timeoutMs: 30_000,
      message: `${total} redelivered readings skipped`,
    })
    expect(await counterTotal(again, 'rowsInserted')).toBe(0)
    expect(await snapshot(h.pool)).toBe(before)
  })

  it('sends a poison message to the DLQ with its origin and moves on', async () => {
    const dlq: Consumer = h.kafka.consumer({ groupId: `${h.prefix}dlq-reader` })
    const letters: Record<string, unknown>[] = []
    await dlq.connect()
    try {
      await dlq.subscribe({ topic: h.topics.dlq, fromBeginning: true })
      await dlq.run({
        eachMessage: async ({ message }) => void letters.push(JSON.parse(message.value!.toString())),
      })
      const good: MeterReading = {
        meterId: 'AFTER-POISON',
        kwhConsumedAc: 0.5,
        voltage: 230,
        timestamp: new Date(Date.now() - 60_000).toISOString(),
      }
      const receivedAt = new Date().toISOString()
      await h.producer.send({
        topic: h.topics.meter,
        acks: -1,
        messages: [
          { partition: 0, key: 'poison-1', value: 'this is not JSON' },
          {
            partition: 0,
            key: 'poison-2',
            value: encodeEnvelope({
              v: 1,
              type: 'meter',
              receivedAt,
              readings: [{ ...good, meterId: 'BAD', voltage: -5 }],
            }),
          },
          {
            partition: 0,
            key: 'good',
            value: encodeEnvelope({ v: 1, type: 'meter', receivedAt, readings: [good] }),
          },
        ],
      })
      await eventually(
        async () =>
          (await h.pool.query(`SELECT 1 FROM meter_history WHERE meter_id = 'AFTER-POISON'`)).rowCount === 1,
        { timeoutMs: 20_000, message: 'the reading after the poison messages is stored' },
      )
      await eventually(() => letters.length >= 2, { timeoutMs: 20_000, message: 'two dead letters' })
      // The two letters are keyed differently, so they may sit on different DLQ partitions: any order.
      const byKey = (l: Record<string, unknown>) => String((l.source as { key: string }).key)
      letters.sort((a, b) => (byKey(a) < byKey(b) ? -1 : 1))
      expect(letters).toEqual([
        expect.objectContaining({
          code: 'WRITER_UNDECODABLE_MESSAGE',
          payload: 'this is not JSON',
          source: expect.objectContaining({ topic: h.topics.meter, partition: 0, key: 'poison-1' }),
        }),
        expect.objectContaining({
          code: 'WRITER_INVALID_ITEM',
          issues: [expect.objectContaining({ field: 'voltage' })],
          source: expect.objectContaining({ topic: h.topics.meter, partition: 0, key: 'poison-2' }),
        }),
      ])
      expect((await h.pool.query(`SELECT 1 FROM meter_history WHERE meter_id = 'BAD'`)).rowCount).toBe(0)
    } finally {
      await dlq.disconnect()
    }
  })

  it('upserts assignments and closes an open one when the next begins', async () => {
    const receivedAt = new Date().toISOString()
    await h.producer.send({
      topic: h.topics.assignments,
      acks: -1,
      messages: [
        {
          key: 'EV-9',
          value: encodeEnvelope({
            v: 1,
            type: 'assignment',
            receivedAt,
            assignments: [
              { vehicleId: 'EV-9', meterId: 'M-2', validFrom: '2026-03-01T00:00:00Z' },
              { vehicleId: 'EV-9', meterId: 'M-1', validFrom: '2026-01-01T00:00:00Z' },
            ],
          }),
        },
      ],
    })
    await eventually(
      async () =>
        (await h.pool.query(`SELECT 1 FROM vehicle_meter_assignments WHERE vehicle_id = 'EV-9'`)).rowCount ===
        2,
      { timeoutMs: 20_000, message: 'assignments stored' },
    )
    const { rows } = await h.pool.query(
      `SELECT meter_id, valid_from, valid_to FROM vehicle_meter_assignments WHERE vehicle_id = 'EV-9' ORDER BY valid_from`,
    )
    expect(rows).toEqual([
      {
        meter_id: 'M-1',
        valid_from: new Date('2026-01-01T00:00:00Z'),
        valid_to: new Date('2026-03-01T00:00:00Z'),
      },
      { meter_id: 'M-2', valid_from: new Date('2026-03-01T00:00:00Z'), valid_to: null },
    ])
  })

  it('answers health and metrics on its port', async () => {
    const ready = await eventually(
      async () => {
        const res = await fetch(`${writer!.url()}/health/ready`)
        return res.status === 200 ? res.json() : false
      },
      { message: 'ready' },
    )
    expect(ready).toMatchObject({ status: 'ok', checks: { consumer: { ok: true }, database: { ok: true } } })
    expect((await fetch(`${writer!.url()}/health/live`)).status).toBe(200)
    const metrics = await (await fetch(`${writer!.url()}/metrics`)).text()
    for (const name of [
      'writer_rows_inserted_total',
      'writer_rows_duplicate_total',
      'writer_batch_readings',
      'writer_batch_duration_seconds',
      'writer_dead_letters_total',
      'writer_consumer_lag',
    ]) {
      expect(metrics).toContain(name)
    }
  })
})
