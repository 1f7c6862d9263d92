// The items of a batch body: how one is parsed, how its bytes are kept, where they are collected.
import type { ValidationIssue } from '@energy-ingest/contracts'
import { BatchMalformed, BatchTooLarge, withIssues } from '../errors.js'

/**
 * An item of a batch that could not be read (a line that is not JSON, an item over the size bound):
 * rejected as that item, while the other items still count, up to `maxUnreadable` of them.
 */
export class UnreadableItem {
  constructor(
    /** `line 3` (NDJSON) or `item 2` (JSON array, 0-based like the index). */
    readonly where: string,
    readonly reason: string,
  ) {}
}

export interface BatchLimits {
  /** Items a batch may hold; the next one ends the parse with a 413. */
  maxItems: number
  /** Bytes one item may take (its line, or its element with the white space after it). */
  maxItemBytes: number
  /** Unreadable items tolerated; the one that reaches this count ends the parse with a 400. */
  maxUnreadable: number
}

/** A __proto__ key, or constructor.prototype: refused as Fastify's own JSON parser refuses them. */
export function poisoned(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return true
  const ctor: unknown = (value as Record<string, unknown>).constructor
  if (
    Object.prototype.hasOwnProperty.call(value, 'constructor') &&
    typeof ctor === 'object' &&
    ctor !== null &&
    Object.prototype.hasOwnProperty.call(ctor, 'prototype')
  ) {
    return true
  }
  return Object.values(value).some(poisoned)
}

export const POISONED = 'has a __proto__ or constructor.prototype key'

export type Parsed = { ok: true; value: unknown } | { ok: false; syntax: boolean; reason: string }

/** Whether JSON text could hold a __proto__ or constructor key, also behind \u escapes (else no walk). */
export const mayHidePoison = (text: string): boolean => /proto|constructor|\\u/.test(text)

export function parseItem(text: string): Parsed {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return { ok: false, syntax: true, reason: (err as Error).message }
  }
  if (mayHidePoison(text) && poisoned(value)) return { ok: false, syntax: false, reason: POISONED }
  return { ok: true, value }
}

/**
 * The bytes of the item being read, up to the per-item bound (past it only their count is kept). An
 * item within one chunk is decoded from the chunk itself; only the part of an item that continues in
 * the next chunk is copied (`detach`), so no view of a chunk outlives the push that brought it.
 */
export class ItemBytes {
  #pieces: Buffer[] = []
  #length = 0
  oversize = false

  constructor(readonly max: number) {}

  get length(): number {
    return this.#length
  }

  append(chunk: Buffer, start: number, end: number): void {
    if (end <= start) return
    this.#length += end - start
    if (this.oversize) return
    if (this.#length > this.max) {
      this.oversize = true
      this.#pieces = []
      return
    }
    this.#pieces.push(chunk.subarray(start, end))
  }

  /** Called at the end of a chunk: what is kept of an unfinished item becomes a copy. */
  detach(): void {
    const last = this.#pieces.length - 1
    if (last >= 0) this.#pieces[last] = Buffer.from(this.#pieces[last]!)
  }

  /** The item's text, and a fresh start. */
  take(): string {
    const pieces = this.#pieces
    const text = pieces.length === 1 ? pieces[0]!.toString('utf8') : Buffer.concat(pieces).toString('utf8')
    this.#pieces = []
    this.#length = 0
    this.oversize = false
    return text
  }
}

/** Collects items and enforces the item count and the unreadable-item count. */
export class ItemSink {
  readonly items: unknown[] = []
  readonly #unreadable: ValidationIssue[] = []

  constructor(readonly limits: BatchLimits) {}

  add(value: unknown): void {
    if (this.items.length >= this.limits.maxItems) throw new BatchTooLarge(this.limits.maxItems)
    this.items.push(value)
  }

  addUnreadable(where: string, reason: string): void {
    const index = this.items.length
    this.add(new UnreadableItem(where, reason))
    this.#unreadable.push({ field: `body/${index}`, reason: `${where}: ${reason}` })
    if (this.#unreadable.length >= this.limits.maxUnreadable) {
      const shown = this.#unreadable.slice(0, 3).map((i) => i.reason)
      if (this.#unreadable.length > 3) shown.push(`and ${this.#unreadable.length - 3} more`)
      throw withIssues(new BatchMalformed(this.#unreadable.length, shown.join('; ')), this.#unreadable)
    }
  }
}
