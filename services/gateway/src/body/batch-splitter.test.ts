import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  JsonArraySplitter,
  NdjsonSplitter,
  UnreadableItem,
  type BatchLimits,
  type BatchSplitter,
} from './batch-splitter.js'

const limits: BatchLimits = { maxItems: 5000, maxItemBytes: 1024, maxUnreadable: 10 }
const MiB = 1024 * 1024

/** Feeds `body` in chunks of `size` bytes (1: every byte on its own). */
function split(splitter: BatchSplitter, body: string | Buffer, size = 64 * 1024): unknown[] {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  for (let i = 0; i < bytes.length; i += size) splitter.push(bytes.subarray(i, i + size))
  return splitter.end()
}

function failure(run: () => unknown): { code?: string; message: string; issues?: unknown[] } {
  try {
    run()
  } catch (err) {
    return err as { code?: string; message: string }
  }
  throw new Error('expected the parse to fail')
}

/** How many chunks were pushed before the splitter gave up. */
function chunksUntilRefused(splitter: BatchSplitter, body: Buffer, size = 64 * 1024): number {
  let pushed = 0
  try {
    for (let i = 0; i < body.length; i += size) {
      pushed++
      splitter.push(body.subarray(i, i + size))
    }
    splitter.end()
  } catch {
    return pushed
  }
  throw new Error('expected the parse to fail')
}

describe('NdjsonSplitter', () => {
  const ndjson = (body: string | Buffer, size?: number, l = limits) =>
    split(new NdjsonSplitter(l), body, size)

  it('reads one value per line, skipping blank lines and CRs, however the body is chunked', () => {
    const body = '{"a":1}\r\n\n  \n[2]\n"x"\n{"é":"ü€😀"}'
    const expected = [{ a: 1 }, [2], 'x', { é: 'ü€😀' }]
    expect(ndjson(body)).toEqual(expected)
    expect(ndjson(body, 1)).toEqual(expected)
    expect(ndjson(body, 3)).toEqual(expected)
  })

  it('keeps a malformed line as an item that names its line', () => {
    const items = ndjson('{"a":1}\n{oops\n{"b":2}\n')
    expect(items).toHaveLength(3)
    expect(items[1]).toBeInstanceOf(UnreadableItem)
    expect(items[1]).toMatchObject({ where: 'line 2' })
    expect((items[1] as UnreadableItem).reason).toMatch(/^not valid JSON/)
  })

  it('gives no items for an empty body', () => {
    expect(ndjson('')).toEqual([])
    expect(ndjson('\n\n')).toEqual([])
  })

  it('gives up at the tenth unreadable line, naming each, within the first chunk of 2 M junk lines', () => {
    const junk = Buffer.from('x\n'.repeat(2 * MiB))
    expect(chunksUntilRefused(new NdjsonSplitter(limits), junk)).toBe(1)
    const err = failure(() => ndjson(junk))
    expect(err.code).toBe('INGEST_BATCH_MALFORMED')
    expect(err.message).toContain('line 1: not valid JSON')
    expect(err.issues).toHaveLength(10)
    expect(err.issues![9]).toMatchObject({ field: 'body/9', reason: expect.stringContaining('line 10:') })
  })

  it('accepts nine unreadable lines among good ones', () => {
    const body = [...Array(9).fill('nope'), '{"a":1}'].join('\n')
    const items = ndjson(body)
    expect(items.filter((i) => i instanceof UnreadableItem)).toHaveLength(9)
    expect(items.at(-1)).toEqual({ a: 1 })
  })

  it('refuses the item past maxItems (413), without reading on', () => {
    expect(ndjson('{}\n'.repeat(5000))).toHaveLength(5000)
    const err = failure(() => ndjson('{}\n'.repeat(5001)))
    expect(err).toMatchObject({ code: 'INGEST_BATCH_TOO_MANY_ITEMS', statusCode: 413 })
    expect(chunksUntilRefused(new NdjsonSplitter(limits), Buffer.from('1\n'.repeat(2 * MiB)))).toBe(1)
  })

  it('rejects a line over the item bound as that item, without keeping its bytes', () => {
    const items = ndjson(`{"a":"${'x'.repeat(4 * MiB)}"}\n{"b":1}`)
    expect(items).toHaveLength(2)
    expect(items[0]).toEqual(new UnreadableItem('line 1', 'longer than 1024 bytes'))
    expect(items[1]).toEqual({ b: 1 })
  })

  it('rejects a line with a __proto__ key, even an escaped one', () => {
    const items = ndjson(
      '{"__proto__":{"x":1}}\n{"a":{"\\u005f_proto__":1}}\n{"constructor":{"prototype":{}}}',
    )
    expect(items.map((i) => (i as UnreadableItem).reason)).toEqual([
      'has a __proto__ or constructor.prototype key',
      'has a __proto__ or constructor.prototype key',
      'has a __proto__ or constructor.prototype key',
    ])
  })
})

describe('JsonArraySplitter', () => {
  const array = (body: string | Buffer, size?: number, l = limits) =>
    split(new JsonArraySplitter(l), body, size)

  it('splits an array into its items, however the body is chunked', () => {
    const value = [{ a: '],[{"', b: [1, [2, { c: '\\"]' }]] }, 'x,y', 3.5e-7, null, true, [], {}, '😀é']
    const body = ` \n[ ${value.map((v) => JSON.stringify(v, null, 2)).join(' ,\n')} ]\r\n`
    expect(array(body)).toEqual(value)
    expect(array(body, 1)).toEqual(value)
    expect(array(body, 7)).toEqual(value)
    expect(array('[]')).toEqual([])
  })

  it('agrees with JSON.parse on any array, in any chunking', () => {
    const big = { ...limits, maxItemBytes: 1e6, maxItems: 1e6 }
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue()),
        fc.integer({ min: 1, max: 50 }),
        fc.constantFrom(undefined, 0, 2),
        (value, size, indent) => {
          const body = JSON.stringify(value, null, indent)
          fc.pre(!body.includes('__proto__'))
          expect(array(body, size, big)).toEqual(JSON.parse(body))
        },
      ),
    )
  })

  it('never accepts what JSON.parse refuses, or a value that is not an array', () => {
    const big = { ...limits, maxItemBytes: 1e6, maxItems: 1e6 }
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 5 }), fc.nat(), fc.nat(), (value, at, cut) => {
        const text = JSON.stringify(value)
        // A cut somewhere, or a character from another part of the text put in.
        const mutated =
          text.slice(0, at % (text.length + 1)) + text.slice((at % (text.length + 1)) + (cut % 3))
        fc.pre(!mutated.includes('__proto__'))
        let expected: unknown
        try {
          expected = JSON.parse(mutated)
        } catch {
          expected = undefined
        }
        // Chunks of 5 bytes: most items span chunks; one chunk: every item is parsed with its neighbours.
        for (const size of [5, 64 * 1024]) {
          if (Array.isArray(expected)) expect(array(mutated, size, big)).toEqual(expected)
          else
            expect(failure(() => array(mutated, size, big)).code).toMatch(
              /^INGEST_(MALFORMED_JSON|BATCH_NOT_ARRAY|EMPTY_BODY)$/,
            )
        }
      }),
    )
  })

  it.each([
    ['{"meterId":"M1"}', 'INGEST_BATCH_NOT_ARRAY'],
    ['"text"', 'INGEST_BATCH_NOT_ARRAY'],
    ['', 'INGEST_EMPTY_BODY'],
    ['  \n', 'INGEST_EMPTY_BODY'],
    ['oops', 'INGEST_MALFORMED_JSON'],
    ['[1,]', 'INGEST_MALFORMED_JSON'],
    ['[,1]', 'INGEST_MALFORMED_JSON'],
    ['[1 2]', 'INGEST_MALFORMED_JSON'],
    ['[{"a":1}}]', 'INGEST_MALFORMED_JSON'],
    ['[1', 'INGEST_MALFORMED_JSON'],
    ['[1] x', 'INGEST_MALFORMED_JSON'],
    ['[1][2]', 'INGEST_MALFORMED_JSON'],
    ['[NaN]', 'INGEST_MALFORMED_JSON'],
    ['[{"__proto__":{"x":1}}]', 'INGEST_MALFORMED_JSON'],
  ])('refuses %j with %s', (body, code) => {
    expect(failure(() => array(body)).code).toBe(code)
  })

  it('names the item and the byte of a syntax error', () => {
    const err = failure(() => array('[{"a":1}, {"b":}]'))
    expect(err.message).toMatch(/item 1: .*byte 16/)
  })

  it('names the first bad item of a chunk whose items are parsed together, whatever follows it', () => {
    const good = '{"a":1}'
    // The error of item 2 comes first, though the array breaks later in the same chunk.
    expect(failure(() => array(`[${good},${good},{"b":},${good}}]`)).message).toMatch(/item 2: .*byte 23\b/)
    for (const key of ['"__proto__"', '"\\u005f_proto__"']) {
      const err = failure(() => array(`[${good},{${key}:{"x":1}},${good}]`))
      expect(err).toMatchObject({ code: 'INGEST_MALFORMED_JSON' })
      expect(err.message).toMatch(/item 1 has a __proto__ or constructor.prototype key/)
    }
    // An item over the bound between good ones keeps its place.
    const long = `{"a":"${'x'.repeat(2000)}"}`
    expect(array(`[${good},${long},${good}]`)).toEqual([
      { a: 1 },
      new UnreadableItem('item 1', 'larger than 1024 bytes'),
      { a: 1 },
    ])
  })

  it('refuses the item past maxItems (413), within the first chunk of a huge array', () => {
    expect(array(`[${Array(5000).fill('{}').join(',')}]`)).toHaveLength(5000)
    const err = failure(() => array(`[${Array(5001).fill('{}').join(',')}]`))
    expect(err).toMatchObject({ code: 'INGEST_BATCH_TOO_MANY_ITEMS', statusCode: 413 })
    const huge = Buffer.from(`[${'1,'.repeat(2 * MiB)}1]`)
    expect(chunksUntilRefused(new JsonArraySplitter(limits), huge)).toBe(1)
  })

  it('rejects an item over the bound as that item, and gives up at the tenth', () => {
    const long = `{"a":"${'x'.repeat(2000)}"}`
    const items = array(`[${long},{"b":1}]`)
    expect(items).toEqual([new UnreadableItem('item 0', 'larger than 1024 bytes'), { b: 1 }])
    const err = failure(() => array(`[${Array(10).fill(long).join(',')}]`))
    expect(err).toMatchObject({ code: 'INGEST_BATCH_MALFORMED', statusCode: 400 })
  })

  it('reads a deeply nested item without recursion, and bounds it like any other', () => {
    const deep = `[${'['.repeat(MiB)}${']'.repeat(MiB)}]`
    expect(array(deep)).toEqual([new UnreadableItem('item 0', 'larger than 1024 bytes')])
  })
})
