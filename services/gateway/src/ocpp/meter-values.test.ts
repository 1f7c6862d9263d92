import { describe, expect, it } from 'vitest'
import { checkOcppSchema, mapMeterValues } from './meter-values.js'

// Built from the OCPP 1.6 specification's MeterValues.req shape (values are strings, Wh by default).
const v16 = {
  connectorId: 1,
  transactionId: 42,
  meterValue: [
    {
      timestamp: '2026-03-01T10:00:00Z',
      sampledValue: [
        { value: '910080', context: 'Sample.Periodic' }, // no measurand: an energy register in Wh
        { value: '230.1', measurand: 'Voltage', unit: 'V', phase: 'L1-N' },
        { value: '231.3', measurand: 'Voltage', unit: 'V', phase: 'L2-N' },
        { value: '16.2', measurand: 'Current.Import', unit: 'A', phase: 'L1' },
      ],
    },
    {
      timestamp: '2026-03-01T10:01:00Z',
      sampledValue: [
        { value: '910.1', measurand: 'Energy.Active.Import.Register', unit: 'kWh' },
        { value: '230', measurand: 'Voltage', unit: 'V' },
      ],
    },
    {
      timestamp: '2026-03-01T10:02:00Z',
      sampledValue: [{ value: '7.4', measurand: 'Power.Active.Import', unit: 'kW' }],
    },
  ],
}

// OCPP 2.0.1 MeterValuesRequest: numbers, unitOfMeasure with a multiplier, per-phase energy.
const v201 = {
  evseId: 2,
  meterValue: [
    {
      timestamp: '2026-03-01T10:00:00Z',
      sampledValue: [
        {
          value: 300.1,
          measurand: 'Energy.Active.Import.Register',
          phase: 'L1',
          unitOfMeasure: { unit: 'kWh' },
        },
        {
          value: 300.2,
          measurand: 'Energy.Active.Import.Register',
          phase: 'L2',
          unitOfMeasure: { unit: 'kWh' },
        },
        {
          value: 0.3001,
          measurand: 'Energy.Active.Import.Register',
          phase: 'L3',
          unitOfMeasure: { unit: 'Wh', multiplier: 3 },
        },
        { value: 229.9, measurand: 'Voltage', unitOfMeasure: { unit: 'V' } },
        { value: 50, measurand: 'SoC' },
      ],
    },
  ],
}

describe('OCPP MeterValues', () => {
  it('validates against the official schemas and names the path of a problem', () => {
    expect(checkOcppSchema('1.6', 'MeterValues', v16)).toBeNull()
    expect(checkOcppSchema('2.0.1', 'MeterValues', v201)).toBeNull()
    const bad = checkOcppSchema('1.6', 'MeterValues', {
      connectorId: 1,
      meterValue: [{ timestamp: '2026-03-01T10:00:00Z', sampledValue: [{ value: 5 }] }],
    })
    expect(bad?.[0]?.path).toBe('/meterValue/0/sampledValue/0/value')
    expect(checkOcppSchema('2.0.1', 'MeterValues', { meterValue: [] })?.[0]?.path).toBe('/evseId')
  })

  it('maps 1.6: default measurand is an energy register in Wh, parsed exactly; voltage phase average', () => {
    const r = mapMeterValues('1.6', 'MeterValues', 'CP-1', v16)
    expect(r.readings.map((x) => x.reading)).toEqual([
      {
        meterId: 'CP-1:1',
        energyRegisterKwh: 910.08,
        voltage: 230.7,
        timestamp: '2026-03-01T10:00:00Z',
        context: 'Sample.Periodic',
      },
      {
        meterId: 'CP-1:1',
        energyRegisterKwh: 910.1,
        voltage: 230,
        timestamp: '2026-03-01T10:01:00Z',
        context: 'Sample.Periodic',
      },
    ])
    expect(r.ignored).toBe(2) // Current.Import, Power.Active.Import
    expect(r.rejected).toEqual([])
  })

  it('maps 2.0.1: multiplier applied, per-phase registers summed exactly', () => {
    const r = mapMeterValues('2.0.1', 'MeterValues', 'CP-2', v201)
    expect(r.readings[0]!.reading).toMatchObject({
      meterId: 'CP-2:2',
      energyRegisterKwh: 600.6001,
      voltage: 229.9,
    })
    expect(r.ignored).toBe(1)
  })

  it('reads a 1.6 Voltage without unit as volts (the Wh default cannot be a voltage)', () => {
    const r = mapMeterValues('1.6', 'MeterValues', 'CP-1', {
      connectorId: 1,
      meterValue: [
        {
          timestamp: '2026-03-01T10:00:00Z',
          sampledValue: [{ value: '1000' }, { value: '231.5', measurand: 'Voltage' }],
        },
      ],
    })
    expect(r.rejected).toEqual([])
    expect(r.readings[0]!.reading).toMatchObject({ energyRegisterKwh: 1, voltage: 231.5 })
  })

  it('rejects a register without voltage, per meterValue', () => {
    const r = mapMeterValues('1.6', 'MeterValues', 'CP-1', {
      connectorId: 1,
      meterValue: [{ timestamp: '2026-03-01T10:00:00Z', sampledValue: [{ value: '1000' }] }],
    })
    expect(r.readings).toEqual([])
    expect(r.rejected[0]!.index).toBe(0)
  })
})

describe('the README examples', () => {
  const TS = '2026-03-01T10:00:00Z'
  const examples = [
    {
      version: '1.6' as const,
      action: 'MeterValues' as const,
      payload: {
        connectorId: 1,
        transactionId: 42,
        meterValue: [
          {
            timestamp: TS,
            sampledValue: [
              { value: '910080', context: 'Sample.Periodic' },
              { value: '230.1', measurand: 'Voltage', unit: 'V', phase: 'L1-N' },
            ],
          },
        ],
      },
      reading: { meterId: 'CP-7:1', energyRegisterKwh: 910.08, voltage: 230.1 },
      ignored: 0,
    },
    {
      version: '2.0.1' as const,
      action: 'MeterValues' as const,
      payload: {
        evseId: 1,
        meterValue: [
          {
            timestamp: TS,
            sampledValue: [
              { value: 12.5, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'kWh' } },
              { value: 229.9, measurand: 'Voltage', unitOfMeasure: { unit: 'V' } },
              { value: 55, measurand: 'SoC' },
            ],
          },
        ],
      },
      reading: { meterId: 'CP-7:1', energyRegisterKwh: 12.5, voltage: 229.9 },
      ignored: 1,
    },
    {
      version: '2.0.1' as const,
      action: 'TransactionEvent' as const,
      payload: {
        eventType: 'Updated',
        timestamp: TS,
        triggerReason: 'MeterValuePeriodic',
        seqNo: 1,
        transactionInfo: { transactionId: 'TX-1' },
        evse: { id: 1 },
        meterValue: [
          {
            timestamp: TS,
            sampledValue: [
              { value: 12600, measurand: 'Energy.Active.Import.Register' },
              { value: 230.2, measurand: 'Voltage' },
            ],
          },
        ],
      },
      reading: { meterId: 'CP-7:1', energyRegisterKwh: 12.6, voltage: 230.2 },
      ignored: 0,
    },
  ]

  it.each(examples)('OCPP $version $action is valid and maps as documented', (e) => {
    expect(checkOcppSchema(e.version, e.action, e.payload)).toBeNull()
    const r = mapMeterValues(e.version, e.action, 'CP-7', e.payload)
    expect(r.rejected).toEqual([])
    expect(r.ignored).toBe(e.ignored)
    expect(r.readings.map((x) => x.reading)).toEqual([
      { ...e.reading, timestamp: TS, context: 'Sample.Periodic' },
    ])
  })
})
