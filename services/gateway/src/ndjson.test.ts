import { describe, expect, it } from 'vitest'
import { MalformedLine, parseNdjson } from './ndjson.js'

describe('parseNdjson', () => {
  it('parses one value per line, skipping blank lines and CRs', () => {
    expect(parseNdjson('{"a":1}\r\n\n  \n[2]\n"x"')).toEqual([{ a: 1 }, [2], 'x'])
  })

  it('keeps a malformed line as an item that names its line', () => {
    const items = parseNdjson('{"a":1}\n{oops\n{"b":2}\n')
    expect(items).toHaveLength(3)
    expect(items[1]).toBeInstanceOf(MalformedLine)
    expect((items[1] as MalformedLine).line).toBe(2)
  })

  it('gives no items for an empty body', () => {
    expect(parseNdjson('')).toEqual([])
  })
})
