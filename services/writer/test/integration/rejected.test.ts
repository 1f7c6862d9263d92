// A message whose rows PostgreSQL refuses (a constraint the contracts do not know about) goes to the
// DLQ with its SQLSTATE and constraint; the other messages of the same batch are stored.
import { encodeEnvelope, type MeterReading } from '@energy-ingest/contracts'
import { eventually } from '@energy-ingest/testenv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWriter, type Writer } from '../../src/writer.js'
import { setupHarness, writerConfig, type Harness } from './helpers.js'

describe('rows refused by PostgreSQL', () => {
  let h: Harness
  let writer: Writer | undefined

  beforeAll(async () => {
    h = await setupHarness()
    await h.pool.query(`ALTER TABLE meter_history ADD CONSTRAINT test_no_evil CHECK (meter_id <> 'EVIL')`)
  })

  afterAll(async () => {
    await writer?.stop()
    await h?.close()
  })

  it('dead-letters only the refused message, with sqlState and constraint', async () => {
    const letters: Record<string, unknown>[] = []
    const dlq = h.kafka.consumer({ groupId: `${h.prefix}dlq-reader` })
    await dlq.connect()
    try {
      await dlq.subscribe({ topic: h.topics.dlq, fromBeginning: true })
      await dlq.run({
        eachMessage: async ({ message }) => void letters.push(JSON.parse(message.value!.toString())),
      })
      const ts = new Date(Date.now() - 60_000).toISOString()
      const reading = (meterId: string): MeterReading => ({
        meterId,
        kwhConsumedAc: 1,
        voltage: 230,
        timestamp: ts,
      })
      const receivedAt = new Date().toISOString()
      // All on partition 0, so that they arrive in one batch.
      await h.producer.send({
        topic: h.topics.meter,
        acks: -1,
        messages: ['GOOD-1', 'EVIL', 'GOOD-2'].map((id) => ({
          partition: 0,
          key: id,
          value: encodeEnvelope({ v: 1, type: 'meter', receivedAt, readings: [reading(id)] }),
        })),
      })
      writer = await createWriter(writerConfig(h))
      await writer.start()
      await eventually(
        async () =>
          (await h.pool.query(`SELECT 1 FROM meter_history WHERE meter_id IN ('GOOD-1', 'GOOD-2')`))
            .rowCount === 2,
        { timeoutMs: 20_000, message: 'the good messages stored' },
      )
      await eventually(() => letters.length === 1, { timeoutMs: 20_000, message: 'one dead letter' })
      expect(letters[0]).toMatchObject({
        code: 'WRITER_REJECTED_BY_DATABASE',
        sqlState: '23514',
        constraint: 'test_no_evil',
        source: { topic: h.topics.meter, partition: 0, key: 'EVIL' },
        payload: [expect.objectContaining({ meterId: 'EVIL' })],
      })
      expect((await h.pool.query(`SELECT 1 FROM meter_live WHERE meter_id = 'EVIL'`)).rowCount).toBe(0)
    } finally {
      await dlq.disconnect()
    }
  })
})
