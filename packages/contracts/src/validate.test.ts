import { describe, expect, it } from 'vitest'
import { validateAssignment, validateReading } from './validate.js'

const now = Date.parse('2026-06-01T12:00:00Z')
const rules = { nowMs: now, maxFutureSkewMs: 300_000, oldestAllowedMs: Date.parse('2025-05-01T00:00:00Z') }
const meter = { meterId: 'METER-001', kwhConsumedAc: 1.25, voltage: 231.4, timestamp: '2026-06-01T11:59:00Z' }
const vehicle = {
  vehicleId: 'V1',
  soc: 55,
  kwhDeliveredDc: 1.1,
  batteryTemp: 31.5,
  timestamp: '2026-06-01T13:59:00+02:00',
}

describe('validateReading', () => {
  it('takes a cumulative register instead of interval energy, with an OCPP context', () => {
    const { kwhConsumedAc: _, ...base } = meter
    const r = validateReading({ ...base, energyRegisterKwh: 1234.5, context: 'Sample.Periodic' }, rules)
    expect(r).toEqual({
      ok: true,
      type: 'meter',
      reading: {
        ...base,
        energyRegisterKwh: 1234.5,
        context: 'Sample.Periodic',
        timestamp: '2026-06-01T11:59:00.000Z',
      },
    })
  })

  it('needs exactly one of kwhConsumedAc and energyRegisterKwh', () => {
    const { kwhConsumedAc: _, ...base } = meter
    const both = validateReading({ ...meter, energyRegisterKwh: 1 }, rules)
    expect(both.ok).toBe(false)
    if (!both.ok) expect(both.issues[0]).toMatchObject({ field: 'energyRegisterKwh' })
    const none = validateReading(base, rules)
    expect(none.ok).toBe(false)
    if (!none.ok) expect(none.issues[0]).toMatchObject({ field: 'kwhConsumedAc' })
    expect(validateReading({ ...base, energyRegisterKwh: -1 }, rules).ok).toBe(false)
    expect(validateReading({ ...base, energyRegisterKwh: 5, context: 'Bogus' }, rules).ok).toBe(false)
  })

  it('detects a meter by its id field and normalises the timestamp', () => {
    expect(validateReading(meter, rules)).toEqual({
      ok: true,
      type: 'meter',
      reading: { ...meter, timestamp: '2026-06-01T11:59:00.000Z' },
    })
  })

  it('lets an explicit type decide, and drops it from the stored reading', () => {
    const r = validateReading({ type: 'vehicle', ...vehicle }, rules)
    expect(r).toEqual({
      ok: true,
      type: 'vehicle',
      reading: { ...vehicle, timestamp: '2026-06-01T11:59:00.000Z' },
    })
  })

  it.each([
    [{ ...meter, vehicleId: 'V1' }, 'body', 'both'],
    [{ kwhConsumedAc: 1, voltage: 1, timestamp: meter.timestamp }, 'body', 'needs meterId'],
    [{ type: 'meter', ...vehicle }, 'meterId', ''],
    [{ type: 'car', ...vehicle }, 'type', 'meter'],
    [{ ...meter, extra: 1 }, 'extra', 'not a known field'],
    [{ ...meter, voltage: '230' }, 'voltage', 'number'],
    [{ ...meter, voltage: 1001 }, 'voltage', '1000'],
    [{ ...meter, kwhConsumedAc: -0.1 }, 'kwhConsumedAc', '0'],
    [{ ...vehicle, soc: 101 }, 'soc', '100'],
    [{ ...vehicle, batteryTemp: -61 }, 'batteryTemp', '-60'],
    [{ ...meter, meterId: 'bad id' }, 'meterId', 'characters from'],
    [{ ...meter, meterId: 'x'.repeat(65) }, 'meterId', '64'],
    [{ ...meter, timestamp: '2026-06-01T11:59:00' }, 'timestamp', ''],
    [{ ...meter, timestamp: '2026-06-01T12:06:00Z' }, 'timestamp', 'future'],
    [{ ...meter, timestamp: '2024-01-01T00:00:00Z' }, 'timestamp', 'retention'],
    [{ ...meter, timestamp: '2025-04-30T23:59:59.999999Z' }, 'timestamp', '2025-05-01T00:00:00.000Z'],
    [[meter], 'body', 'object'],
    [null, 'body', 'object'],
  ])('rejects %j at %s', (body, field, reason) => {
    const r = validateReading(body, rules)
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.issues[0]?.field).toBe(field)
      expect(r.issues[0]?.reason).toContain(reason)
    }
  })

  it('accepts a reading at the retention horizon itself', () => {
    expect(validateReading({ ...meter, timestamp: '2025-05-01T00:00:00Z' }, rules).ok).toBe(true)
  })

  it('checks only the shape when no clock is given', () => {
    expect(validateReading({ ...meter, timestamp: '2001-01-01T00:00:00Z' }).ok).toBe(true)
  })
})

describe('validateAssignment', () => {
  it('normalises both ends and defaults validTo to null', () => {
    expect(
      validateAssignment({ vehicleId: 'V1', meterId: 'M1', validFrom: '2026-01-01T01:00:00+01:00' }),
    ).toEqual({
      ok: true,
      assignment: { vehicleId: 'V1', meterId: 'M1', validFrom: '2026-01-01T00:00:00.000Z', validTo: null },
    })
  })

  it('keeps microseconds, and orders the bounds by them', () => {
    expect(
      validateAssignment({
        vehicleId: 'V1',
        meterId: 'M1',
        validFrom: '2026-01-01T00:00:00.123456Z',
        validTo: '2026-01-01T00:00:00.123457Z',
      }),
    ).toEqual({
      ok: true,
      assignment: {
        vehicleId: 'V1',
        meterId: 'M1',
        validFrom: '2026-01-01T00:00:00.123456Z',
        validTo: '2026-01-01T00:00:00.123457Z',
      },
    })
    const same = validateAssignment({
      vehicleId: 'V1',
      meterId: 'M1',
      validFrom: '2026-01-01T00:00:00.123456Z',
      validTo: '2026-01-01T01:00:00.123456+01:00',
    })
    expect(same).toEqual({ ok: false, issues: [{ field: 'validTo', reason: 'must be after validFrom' }] })
  })

  it.each([
    ['validFrom', { validFrom: '9999-12-31T20:00:00-05:00' }],
    ['validTo', { validFrom: '2026-01-01T00:00:00Z', validTo: '9999-12-31T20:00:00-05:00' }],
    ['validFrom', { validFrom: '1970-01-01T00:30:00+01:00' }],
  ])('refuses a %s outside the UTC years 1970 to 9999', (field, bounds) => {
    const r = validateAssignment({ vehicleId: 'V1', meterId: 'M1', ...bounds })
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.issues[0]?.field).toBe(field)
  })

  it('rejects an interval that ends before it starts', () => {
    const r = validateAssignment({
      vehicleId: 'V1',
      meterId: 'M1',
      validFrom: '2026-01-02T00:00:00Z',
      validTo: '2026-01-01T00:00:00Z',
    })
    expect(r).toEqual({ ok: false, issues: [{ field: 'validTo', reason: 'must be after validFrom' }] })
  })
})
