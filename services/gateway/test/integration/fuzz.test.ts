import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { App } from '../../src/app.js'
import { fleetAuth, freshTopics, gateway } from './helpers.js'

const { kafkaBrokers: brokers } = inject('testenv')

const id = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/), fc.string({ maxLength: 80 }))
const num = fc.oneof(
  fc.double(),
  fc.double({ min: -100, max: 1100, noNaN: true }),
  fc.integer(),
  fc.string({ maxLength: 8 }),
  fc.constant(null),
  fc.boolean(),
)
const timestamp = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc
    .integer({ min: -10_000_000_000, max: 10_000_000_000 })
    .map((ms) => new Date(Date.now() + ms).toISOString()),
  fc.string({ maxLength: 40 }),
  fc.integer(),
)
const type = fc.constantFrom('meter', 'vehicle', 'car', '', null)

/** Objects near the real shapes (where the interesting bugs are), plus arbitrary JSON. */
const reading = fc.oneof(
  fc.record(
    { type, meterId: id, vehicleId: id, kwhConsumedAc: num, voltage: num, timestamp, extra: fc.jsonValue() },
    { requiredKeys: [] },
  ),
  fc.record(
    { type, vehicleId: id, soc: num, kwhDeliveredDc: num, batteryTemp: num, timestamp },
    { requiredKeys: ['vehicleId'] },
  ),
  fc.jsonValue(),
)

describe('fuzzed ingest bodies', () => {
  let app: App

  beforeAll(async () => {
    const topics = await freshTopics(brokers)
    app = await gateway(brokers, topics.prefix)
  })
  afterAll(async () => {
    await app?.close()
  })

  const expectClientAnswer = (res: { statusCode: number; body: string }) => {
    expect(res.statusCode, res.body).toBeLessThan(500)
    if (res.statusCode >= 400)
      expect(JSON.parse(res.body)).toMatchObject({ code: expect.stringMatching(/^INGEST_/) })
  }

  it('never answers 5xx to a single reading', async () => {
    await fc.assert(
      fc.asyncProperty(reading, async (body) => {
        const res = await app.inject({
          method: 'POST',
          url: '/v1/ingest',
          headers: fleetAuth,
          payload: JSON.stringify(body) ?? '',
        })
        expectClientAnswer(res)
      }),
      { numRuns: 400 },
    )
  })

  it('never answers 5xx to raw bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.constantFrom('/v1/ingest', '/v1/ingest/batch'),
        async (text, url) => {
          const res = await app.inject({
            method: 'POST',
            url,
            headers: { ...fleetAuth, 'content-type': 'application/json' },
            payload: text,
          })
          expectClientAnswer(res)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('never answers 5xx to a batch, and accounts for every item', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(reading, { maxLength: 30 }), async (items) => {
        const res = await app.inject({
          method: 'POST',
          url: '/v1/ingest/batch',
          headers: fleetAuth,
          payload: items,
        })
        expectClientAnswer(res)
        if (res.statusCode === 202) {
          const body = res.json<{ accepted: number; rejected: unknown[] }>()
          expect(body.accepted + body.rejected.length).toBe(items.length)
        }
      }),
      { numRuns: 200 },
    )
  })
})
