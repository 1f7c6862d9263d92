import { describe, expect, it } from 'vitest'
import { Args, parseCount } from './args.js'

describe('parseCount', () => {
  it('reads plain numbers, underscores and k/M/G suffixes', () => {
    expect(parseCount('10000')).toBe(10_000)
    expect(parseCount('10_000')).toBe(10_000)
    expect(parseCount('10k')).toBe(10_000)
    expect(parseCount('2.5M')).toBe(2_500_000)
    expect(parseCount('1G')).toBe(1_000_000_000)
    expect(parseCount('ten')).toBeNaN()
  })
})

describe('Args', () => {
  it('takes --name value, --name=value, bare flags and positionals', () => {
    const args = new Args(['analytics', '--sizes', '10M,100M', '--requests=50', '--stack', '--fast', 'false'])
    expect(args.positional).toEqual(['analytics'])
    expect(args.counts('sizes', [])).toEqual([10_000_000, 100_000_000])
    expect(args.num('requests', 1)).toBe(50)
    expect(args.bool('stack')).toBe(true)
    expect(args.bool('fast')).toBe(false)
    expect(args.num('missing', 7)).toBe(7)
  })

  it('names a bad number and reports flags nobody read', () => {
    const args = new Args(['--duration', 'soon', '--typo', '3'])
    expect(() => args.num('duration', 10)).toThrow(/--duration/)
    expect(args.unknown()).toEqual(['typo'])
  })
})
