import { describe, expect, it } from 'vitest'
import { renderTable } from './report.js'
import { Samples, median } from './stats.js'

describe('Samples', () => {
  it('gives nearest-rank percentiles', () => {
    const s = new Samples()
    for (let i = 1; i <= 100; i++) s.add(i)
    expect(s.summary()).toMatchObject({ count: 100, p50: 50, p90: 90, p99: 99, max: 100, mean: 50.5 })
  })

  it('is NaN when empty rather than a made-up zero', () => {
    expect(new Samples().summary().p99).toBeNaN()
  })
})

describe('median', () => {
  it('averages the middle pair of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([3, 1, 2])).toBe(2)
  })
})

describe('renderTable', () => {
  it('right-aligns numeric columns and prints missing values as -', () => {
    const text = renderTable({
      title: 't',
      columns: ['name', 'rows/s'],
      rows: [
        ['a', 12345],
        ['b', null],
      ],
    })
    expect(text.split('\n').slice(2)).toEqual([
      '| name | rows/s |',
      '|------|-------:|',
      '| a    | 12,345 |',
      '| b    |      - |',
      '',
    ])
  })
})
