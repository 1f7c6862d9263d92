import { describe, expect, it } from 'vitest'
import { monthsOf, parsePartitionName, partitionFor, retentionCutoff } from './partition-names.js'

describe('partitionFor', () => {
  it('names the month and gives UTC bounds', () => {
    expect(partitionFor('meter_history', new Date('2026-01-15T10:00:00Z'))).toEqual({
      name: 'meter_history_2026_01',
      parent: 'meter_history',
      from: new Date('2026-01-01T00:00:00Z'),
      to: new Date('2026-02-01T00:00:00Z'),
    })
  })

  it('uses UTC at month edges whatever the offset the instant was written with', () => {
    expect(partitionFor('t', new Date('2026-02-01T00:30:00+01:00')).name).toBe('t_2026_01')
    expect(partitionFor('t', new Date('2026-01-31T23:59:59.999Z')).name).toBe('t_2026_01')
    expect(partitionFor('t', new Date('2026-02-01T00:00:00Z')).name).toBe('t_2026_02')
  })

  it('rolls over the year', () => {
    const p = partitionFor('vehicle_history', new Date('2026-12-31T23:00:00Z'))
    expect(p.name).toBe('vehicle_history_2026_12')
    expect(p.to).toEqual(new Date('2027-01-01T00:00:00Z'))
  })

  it('handles leap February', () => {
    const p = partitionFor('t', new Date('2028-02-29T12:00:00Z'))
    expect([p.from, p.to]).toEqual([new Date('2028-02-01T00:00:00Z'), new Date('2028-03-01T00:00:00Z')])
  })

  it('refuses an invalid date', () => {
    expect(() => partitionFor('t', new Date('nope'))).toThrow(RangeError)
  })
})

describe('parsePartitionName', () => {
  it('round-trips', () => {
    const p = partitionFor('meter_hourly', new Date('2025-10-03T00:00:00Z'))
    expect(parsePartitionName('meter_hourly', p.name)).toEqual(p)
  })

  it('ignores foreign names', () => {
    expect(parsePartitionName('meter_history', 'meter_history_default')).toBeNull()
    expect(parsePartitionName('meter_history', 'meter_history_2026_13')).toBeNull()
    expect(parsePartitionName('meter_history', 'vehicle_history_2026_01')).toBeNull()
  })
})

describe('monthsOf / retentionCutoff', () => {
  it('lists distinct months in order', () => {
    const ms = ['2026-03-05T00:00:00Z', '2026-01-31T23:59:59Z', '2026-03-01T00:00:00Z'].map(Date.parse)
    expect(monthsOf(ms)).toEqual([new Date('2026-01-01T00:00:00Z'), new Date('2026-03-01T00:00:00Z')])
  })

  it('keeps the current month and N before it', () => {
    expect(retentionCutoff(new Date('2026-11-22T17:00:00Z'), 13)).toEqual(new Date('2025-10-01T00:00:00Z'))
    expect(retentionCutoff(new Date('2026-01-01T00:00:00Z'), 1)).toEqual(new Date('2025-12-01T00:00:00Z'))
    expect(() => retentionCutoff(new Date(), 0)).toThrow(RangeError)
  })
})
