// Dead letters against a DLQ topic that takes at most 64 KiB per message (managed Kafka and the
// compose file default to 1 MB; the local broker to 10 MB): many large bad messages in one batch all
// reach the DLQ, split into requests the broker accepts, an oversized payload truncated and said so,
// and the group keeps consuming.
import { encodeEnvelope, type MeterReading } from '@energy-ingest/contracts'
import { eventually } from '@energy-ingest/testenv'
import type { Consumer } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { createWriter, type Writer } from '../../src/writer.js'
import { readMaxMessageBytes } from '../../src/dead-letters.js'
import { setupHarness, writerConfig, type Harness } from './helpers.js'

const DLQ_MAX_MESSAGE_BYTES = 64 * 1024
const log = pino({ level: 'silent' })
const HUGE = 12 // undecodable messages of 200 kB each
const ENVELOPES = 8 // envelopes of 400 invalid readings each
const PER_ENVELOPE = 400

interface Letter {
  code: string
  reason: string
  source: { topic: string; partition: number; offset: string; key: string | null }
  payload: unknown
  truncated?: boolean
  payloadBytes?: number
}

describe('dead letters larger than the DLQ topic takes', () => {
  let h: Harness
  let writer: Writer | undefined
  let dlq: Consumer | undefined
  const letters: { letter: Letter; bytes: number }[] = []

  beforeAll(async () => {
    h = await setupHarness({ dlqConfig: { 'max.message.bytes': String(DLQ_MAX_MESSAGE_BYTES) } })
    dlq = h.kafka.consumer({ groupId: `${h.prefix}dlq-reader` })
    await dlq.connect()
    await dlq.subscribe({ topic: h.topics.dlq, fromBeginning: true })
    await dlq.run({
      eachMessage: async ({ message }) =>
        void letters.push({ letter: JSON.parse(message.value!.toString()), bytes: message.value!.length }),
    })
  })

  afterAll(async () => {
    await dlq?.disconnect()
    await writer?.stop()
    await h?.close()
  })

  const stored = async (meterId: string) =>
    (await h.pool.query('SELECT 1 FROM meter_history WHERE meter_id = $1', [meterId])).rowCount === 1

  const good = (meterId: string): MeterReading => ({
    meterId,
    kwhConsumedAc: 0.5,
    voltage: 230,
    timestamp: new Date(Date.now() - 60_000).toISOString(),
  })

  it("reads the DLQ topic's max.message.bytes, else the broker's message.max.bytes", async () => {
    const admin = h.kafka.admin()
    await admin.connect()
    try {
      expect(await readMaxMessageBytes(admin, h.topics.dlq, log)).toEqual({
        bytes: DLQ_MAX_MESSAGE_BYTES,
        source: 'topic',
      })
      // infra/kafka/server.properties sets message.max.bytes=10485760 on the test broker.
      expect(await readMaxMessageBytes(admin, `${h.prefix}no-such-topic`, log)).toEqual({
        bytes: 10_485_760,
        source: 'broker',
      })
    } finally {
      await admin.disconnect()
    }
  })

  it('delivers every dead letter in pieces the broker accepts, truncating what cannot fit', async () => {
    const receivedAt = new Date().toISOString()
    const huge = Array.from({ length: HUGE }, (_, i) => `not JSON ${i} ${'x'.repeat(200_000)}`)
    const bad = (i: number, j: number) => ({
      ...good(`BAD-${i}-${j}`),
      voltage: -5,
      comment: 'y'.repeat(100),
    })
    // All on partition 0, so that they arrive in the same batches as the good reading after them.
    await h.producer.send({
      topic: h.topics.meter,
      acks: -1,
      messages: [
        ...huge.map((value, i) => ({ partition: 0, key: `huge-${i}`, value })),
        ...Array.from({ length: ENVELOPES }, (_, i) => ({
          partition: 0,
          key: `bad-${i}`,
          value: encodeEnvelope({
            v: 1,
            type: 'meter',
            receivedAt,
            readings: Array.from({ length: PER_ENVELOPE }, (_, j) => bad(i, j)) as unknown as MeterReading[],
          }),
        })),
        {
          partition: 0,
          key: 'good',
          value: encodeEnvelope({ v: 1, type: 'meter', receivedAt, readings: [good('AFTER-DLQ')] }),
        },
      ],
    })
    writer = await createWriter(writerConfig(h))
    await writer.start()

    await eventually(() => stored('AFTER-DLQ'), { timeoutMs: 30_000, message: 'the good reading stored' })
    const total = HUGE + ENVELOPES * PER_ENVELOPE
    await eventually(() => letters.length >= total, { timeoutMs: 30_000, message: `${total} dead letters` })
    expect(letters.length).toBe(total)
    for (const { bytes } of letters) expect(bytes).toBeLessThanOrEqual(DLQ_MAX_MESSAGE_BYTES)

    const truncated = letters.filter(({ letter }) => letter.code === 'WRITER_UNDECODABLE_MESSAGE')
    expect(truncated.map(({ letter }) => letter.source.key).sort()).toEqual(
      huge.map((_, i) => `huge-${i}`).sort(),
    )
    for (const { letter } of truncated) {
      const original = huge[Number(letter.source.key!.slice('huge-'.length))]!
      const originalJson = JSON.stringify(original)
      expect(letter).toMatchObject({
        truncated: true,
        payloadBytes: Buffer.byteLength(originalJson),
        source: { topic: h.topics.meter, partition: 0 },
      })
      expect(typeof letter.payload).toBe('string')
      expect((letter.payload as string).length).toBeGreaterThan(0)
      expect(originalJson.startsWith(letter.payload as string)).toBe(true)
    }
    const invalid = letters.filter(({ letter }) => letter.code === 'WRITER_INVALID_ITEM')
    expect(invalid).toHaveLength(ENVELOPES * PER_ENVELOPE)
    expect(invalid.every(({ letter }) => letter.truncated === undefined)).toBe(true)
    expect(new Set(invalid.map(({ letter }) => (letter.payload as MeterReading).meterId)).size).toBe(
      ENVELOPES * PER_ENVELOPE,
    )

    // The group is still consuming, and the writer still ready.
    await h.producer.send({
      topic: h.topics.meter,
      acks: -1,
      messages: [
        {
          partition: 0,
          key: 'later',
          value: encodeEnvelope({ v: 1, type: 'meter', receivedAt, readings: [good('LATER')] }),
        },
      ],
    })
    await eventually(() => stored('LATER'), { timeoutMs: 30_000, message: 'a later reading stored' })
    expect((await fetch(`${writer.url()}/health/ready`)).status).toBe(200)
  })
})
