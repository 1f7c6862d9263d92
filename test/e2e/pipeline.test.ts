// End to end: HTTP readings into the gateway -> Kafka -> the writer -> PostgreSQL primary ->
// streaming replica -> numbers out of the analytics API. Real broker, real databases, real services.
import { eventually } from '@energy-ingest/testenv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPipeline, type Pipeline } from './harness.js'

const MIN = 60_000

let p: Pipeline

beforeAll(async () => {
  p = await startPipeline({ name: 'e2e', partitions: 12 })
})

afterAll(async () => {
  await p?.close()
})

async function post(url: string, payload: unknown) {
  const res = await p.gw.inject({
    method: 'POST',
    url,
    payload: payload as object,
    headers: { authorization: `Bearer ${p.fleetToken}` },
  })
  expect(res.statusCode, res.body).toBe(202)
  return res.json() as Record<string, unknown>
}

async function performance(vehicleId: string) {
  const res = await p.an.inject({
    method: 'GET',
    url: `/v1/analytics/performance/${vehicleId}`,
    headers: { authorization: `Bearer ${p.apiKey}` },
  })
  return { status: res.statusCode, body: res.json() as Record<string, unknown> }
}

describe('gateway -> Kafka -> writer -> replica -> analytics', () => {
  it('answers exact 24 h performance for what devices posted', async () => {
    const now = Date.now()
    const at = (minutesAgo: number) => new Date(now - minutesAgo * MIN).toISOString()
    // Values with 3 decimals: expected totals are integer thousandths, so JS arithmetic is exact.
    const ev = [
      { vehicleId: 'EV-9', soc: 40, kwhDeliveredDc: 1.234, batteryTemp: 30.5, timestamp: at(300) },
      { vehicleId: 'EV-9', soc: 45, kwhDeliveredDc: 2.5, batteryTemp: 31.25, timestamp: at(200) },
      { vehicleId: 'EV-9', soc: 52, kwhDeliveredDc: 0.875, batteryTemp: 32, timestamp: at(100) },
    ]
    const meter = [
      { meterId: 'METER-009', kwhConsumedAc: 1.5, voltage: 230, timestamp: at(300) },
      { meterId: 'METER-009', kwhConsumedAc: 2.75, voltage: 231, timestamp: at(200) },
      { meterId: 'METER-009', kwhConsumedAc: 1.125, voltage: 229, timestamp: at(100) },
    ]
    await post('/v1/assignments', { vehicleId: 'EV-9', meterId: 'METER-009', validFrom: at(2 * 24 * 60) })
    // Counted: the batch above. Not counted: a reading older than the window, a meter not assigned to
    // EV-9, and duplicates (the same readings posted again, single and batch).
    await post('/v1/ingest/batch', [...ev, ...meter])
    await post('/v1/ingest', { ...ev[1], type: 'vehicle' })
    await post('/v1/ingest/batch', [meter[2], ev[0]])
    await post('/v1/ingest', {
      vehicleId: 'EV-9',
      soc: 10,
      kwhDeliveredDc: 9,
      batteryTemp: 20,
      timestamp: at(25 * 60),
    })
    await post('/v1/ingest', { meterId: 'METER-009', kwhConsumedAc: 9, voltage: 230, timestamp: at(25 * 60) })
    await post('/v1/ingest', { meterId: 'METER-OTHER', kwhConsumedAc: 7, voltage: 230, timestamp: at(150) })

    const body = await eventually(
      async () => {
        const r = await performance('EV-9')
        const readings = r.body.readings as { vehicle: number; meter: number } | undefined
        return r.status === 200 && readings?.vehicle === 3 && readings.meter === 3 ? r.body : undefined
      },
      { timeoutMs: 45_000, intervalMs: 200, message: 'EV-9 readings to reach analytics' },
    )
    expect(body).toMatchObject({
      vehicleId: 'EV-9',
      meterIds: ['METER-009'],
      totalDcDelivered: 4609 / 1000,
      totalAcConsumed: 5375 / 1000,
      efficiencyRatio: 4609 / 1000 / (5375 / 1000),
      avgBatteryTemp: 93750 / 1000 / 3,
      readings: { vehicle: 3, meter: 3 },
    })
  })

  it('pairs one id used for both: meter V1 and vehicle V1', async () => {
    const ts = new Date(Date.now() - 10 * MIN).toISOString()
    await post('/v1/ingest', { type: 'meter', meterId: 'V1', kwhConsumedAc: 2, voltage: 230, timestamp: ts })
    await post('/v1/ingest', {
      vehicleId: 'V1',
      soc: 60,
      kwhDeliveredDc: 1.8,
      batteryTemp: 28,
      timestamp: ts,
    })
    const body = await eventually(
      async () => {
        const r = await performance('V1')
        const readings = r.body.readings as { vehicle: number; meter: number } | undefined
        return r.status === 200 && readings?.meter === 1 && readings.vehicle === 1 ? r.body : undefined
      },
      { timeoutMs: 45_000, intervalMs: 200, message: 'V1 to reach analytics' },
    )
    expect(body).toMatchObject({
      meterIds: ['V1'],
      totalAcConsumed: 2,
      totalDcDelivered: 1.8,
      efficiencyRatio: 0.9,
    })
  })
})
