import {
  ItemBytes,
  ItemSink,
  mayHidePoison,
  parseItem,
  poisoned,
  POISONED,
  type BatchLimits,
  type Parsed,
} from './batch-items.js'
import { BatchNotArray, EmptyBody, MalformedJson } from '../errors.js'

export { UnreadableItem, type BatchLimits } from './batch-items.js'

/** Takes a body chunk by chunk; throws the request's 4xx error as soon as it is known. */
export interface BatchSplitter {
  push(chunk: Buffer): void
  /** The items, in order, once the body has ended. */
  end(): unknown[]
}

const SPACE = 0x20
const TAB = 0x09
const LF = 0x0a
const CR = 0x0d
const isSpace = (b: number) => b === SPACE || b === LF || b === CR || b === TAB

/** NDJSON: one JSON value per line, blank lines ignored. A bad line is that item's problem. */
export class NdjsonSplitter implements BatchSplitter {
  readonly #sink: ItemSink
  readonly #line: ItemBytes
  #lineNo = 0

  constructor(limits: BatchLimits) {
    this.#sink = new ItemSink(limits)
    this.#line = new ItemBytes(limits.maxItemBytes)
  }

  push(chunk: Buffer): void {
    let start = 0
    for (;;) {
      const nl = chunk.indexOf(LF, start)
      this.#line.append(chunk, start, nl === -1 ? chunk.length : nl)
      if (nl === -1) return this.#line.detach()
      this.#endLine()
      start = nl + 1
    }
  }

  end(): unknown[] {
    if (this.#line.length > 0) this.#endLine()
    return this.#sink.items
  }

  #endLine(): void {
    this.#lineNo++
    const where = `line ${this.#lineNo}`
    if (this.#line.oversize) {
      this.#line.take()
      this.#sink.addUnreadable(where, `longer than ${this.#line.max} bytes`)
      return
    }
    const text = this.#line.take()
    if (text.trim() === '') return
    const parsed = parseItem(text)
    if (parsed.ok) this.#sink.add(parsed.value)
    else this.#sink.addUnreadable(where, parsed.syntax ? `not valid JSON (${parsed.reason})` : parsed.reason)
  }
}

const State = { Before: 0, First: 1, Next: 2, InItem: 3, Done: 4 } as const
type State = (typeof State)[keyof typeof State]

const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const COMMA = 0x2c
const QUOTE = 0x22
const BACKSLASH = 0x5c

/** Where `byte` next occurs in `chunk` from `from` on; chunk.length if it does not. */
function indexOrEnd(chunk: Buffer, byte: number, from: number): number {
  const at = chunk.indexOf(byte, from)
  return at === -1 ? chunk.length : at
}

/** Bytes a JSON value other than an array can start with: such a body is valid JSON, but not a batch. */
const VALUE_START = new Set(Array.from('{"-0123456789tfn', (c) => c.charCodeAt(0)))

/**
 * A JSON array, split into its elements as the bytes arrive: only the nesting, strings and escapes
 * are tracked here, and each element is parsed on its own once it ends. Broken JSON ends the parse
 * with a 400 naming the item; an element over the size bound is that item's problem.
 */
export class JsonArraySplitter implements BatchSplitter {
  readonly #sink: ItemSink
  readonly #item: ItemBytes
  #state: State = State.Before
  #depth = 0
  #inString = false
  #escaped = false
  #offset = 0
  /** The next backslash of the current chunk at or after the read position (chunk length: none). */
  #backslash = -1
  /** Items that began and ended in the current chunk, not parsed yet (see #flush). */
  #pending: { start: number; end: number }[] = []
  #chunk: Buffer = Buffer.alloc(0)

  constructor(limits: BatchLimits) {
    this.#sink = new ItemSink(limits)
    this.#item = new ItemBytes(limits.maxItemBytes)
  }

  push(chunk: Buffer): void {
    let itemStart = this.#state === State.InItem ? 0 : -1
    this.#backslash = -1
    this.#chunk = chunk
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!
      switch (this.#state) {
        case State.InItem:
          if (this.#inString) {
            i = this.#inStringTo(chunk, i)
          } else if (b === QUOTE) {
            this.#inString = true
          } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
            this.#depth++
          } else if (this.#depth > 0 && (b === CLOSE_BRACE || b === CLOSE_BRACKET)) {
            this.#depth--
          } else if (this.#depth === 0 && (b === COMMA || b === CLOSE_BRACKET)) {
            // No bytes kept from an earlier chunk: the item began in this one.
            if (this.#item.length === 0) this.#endInChunk(itemStart, i)
            else {
              this.#item.append(chunk, itemStart, i)
              this.#endItem(i)
            }
            itemStart = -1
            this.#state = b === COMMA ? State.Next : State.Done
          } else if (b === CLOSE_BRACE) {
            this.#malformed(i, 'unexpected "}"')
          }
          break
        case State.Before:
          if (isSpace(b)) break
          if (b === OPEN_BRACKET) this.#state = State.First
          else if (VALUE_START.has(b)) throw new BatchNotArray()
          else this.#malformed(i, `unexpected ${JSON.stringify(String.fromCharCode(b))}`)
          break
        case State.First:
        case State.Next:
          if (isSpace(b)) break
          if (b === CLOSE_BRACKET && this.#state === State.First) this.#state = State.Done
          else if (b === COMMA || b === CLOSE_BRACKET) this.#malformed(i, 'a missing item')
          else {
            this.#state = State.InItem
            this.#depth = 0
            itemStart = i
            i-- // the item's first byte is read as part of the item
          }
          break
        case State.Done:
          if (!isSpace(b)) this.#malformed(i, 'something after the array')
          break
      }
    }
    this.#flush()
    if (itemStart !== -1) {
      this.#item.append(chunk, itemStart, chunk.length)
      this.#item.detach()
    }
    this.#offset += chunk.length
  }

  /** An item that began and ended in this chunk: parsed later with its neighbours, unless oversize. */
  #endInChunk(start: number, end: number): void {
    if (end - start > this.#item.max) {
      this.#flush()
      this.#item.append(this.#chunk, start, end)
      this.#endItem(end)
      return
    }
    this.#pending.push({ start, end })
    // Past maxItems nothing more is collected: the flush's add refuses it.
    if (this.#sink.items.length + this.#pending.length > this.#sink.limits.maxItems) this.#flush()
  }

  /**
   * Parses the pending items with one JSON.parse: in the chunk they are one run of text, `item, item,
   * …`, which is an array's content when each item is valid JSON (the splitter's depth-0 commas are
   * then the array's own), and one parse of many items costs far less than a parse per item. If that
   * parse fails, each item is parsed on its own, so the error names the first bad item as before.
   */
  #flush(): void {
    const pending = this.#pending
    if (pending.length === 0) return
    this.#pending = []
    const text = this.#chunk.toString('utf8', pending[0]!.start, pending[pending.length - 1]!.end)
    let values: unknown
    try {
      values = JSON.parse(`[${text}]`)
    } catch {
      values = undefined
    }
    if (!Array.isArray(values) || values.length !== pending.length) {
      for (const p of pending) this.#addParsed(parseItem(this.#chunk.toString('utf8', p.start, p.end)), p.end)
      return
    }
    const suspect = mayHidePoison(text)
    for (let k = 0; k < values.length; k++) {
      const value: unknown = values[k]
      this.#addParsed(
        suspect && poisoned(value) ? { ok: false, syntax: false, reason: POISONED } : { ok: true, value },
        pending[k]!.end,
      )
    }
  }

  /**
   * Reads string bytes from `i`; returns the index of the last byte read. Most of a body's bytes are
   * inside strings: this jumps to the string's end (its closing quote, or a backslash before it)
   * instead of reading byte by byte.
   */
  #inStringTo(chunk: Buffer, i: number): number {
    if (this.#escaped) {
      this.#escaped = false
      return i
    }
    if (this.#backslash < i) this.#backslash = indexOrEnd(chunk, BACKSLASH, i)
    const quote = indexOrEnd(chunk, QUOTE, i)
    if (this.#backslash < quote) {
      this.#escaped = true
      return this.#backslash
    }
    if (quote === chunk.length) return chunk.length - 1 // the string goes on in the next chunk
    this.#inString = false
    return quote
  }

  end(): unknown[] {
    if (this.#state === State.Done) return this.#sink.items
    if (this.#state === State.Before) throw new EmptyBody()
    throw new MalformedJson(`the body ends inside the array, at item ${this.#sink.items.length}`)
  }

  #endItem(at: number): void {
    const where = `item ${this.#sink.items.length}`
    if (this.#item.oversize) {
      this.#item.take()
      this.#sink.addUnreadable(where, `larger than ${this.#item.max} bytes`)
      return
    }
    this.#addParsed(parseItem(this.#item.take()), at)
  }

  /** The next item in order; a syntax error or a poisoned key ends the parse, naming the item. */
  #addParsed(parsed: Parsed, at: number): void {
    const where = `item ${this.#sink.items.length}`
    if (parsed.ok) this.#sink.add(parsed.value)
    else if (parsed.syntax) throw this.#malformedError(at, `${where}: ${parsed.reason}`)
    else throw new MalformedJson(`${where} ${parsed.reason}`)
  }

  /** Refuses the body; the items before `at` are read first, so the first error in the body wins. */
  #malformed(at: number, what: string): never {
    this.#flush()
    throw this.#malformedError(at, what)
  }

  #malformedError(at: number, what: string): Error {
    return new MalformedJson(`${what}, by byte ${this.#offset + at}`)
  }
}
