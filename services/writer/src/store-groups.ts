import type { Pool } from 'pg'
import type { MessageRows, TopicKind } from './decode.js'
import { storeBatch, storeGroup, type GroupEntry, type StoreOptions, type StoreResult } from './store.js'

interface Waiting extends GroupEntry {
  resolve: (result: StoreResult) => void
  reject: (err: unknown) => void
}

/** A group closes at this many rows; the batches after it go in the next group. */
export const GROUP_ROWS = 20_000

/**
 * Stores the batches that partitions hand in at about the same time together, one transaction per
 * kind (storeGroup). A batch handed in while its kind has no store in flight goes in the next turn of
 * the event loop, with whatever else arrived in this one; batches handed in during a store wait for it
 * and then go together. So a group grows with the load, and each transaction's fixed cost (its
 * statements, locks and commit) is paid once per fetch rather than once per partition. A group closes
 * at GROUP_ROWS rows (the batches after go in the next one): past that the fixed cost is a few per
 * cent of the work, and a backlog's large batches keep going one per transaction, overlapping the
 * decoding of the next ones with the store instead of waiting for all of them. A group that
 * cannot be written together is stored batch by batch, as before grouping. Assignments are stored one
 * batch at a time.
 */
export class StoreGroups {
  readonly #waiting = new Map<TopicKind, Waiting[]>()
  readonly #busy = new Set<TopicKind>()

  constructor(
    private readonly pool: Pool,
    private readonly opts: StoreOptions,
    /** Called with the number of batches in each group stored together (metrics). */
    private readonly onGroup: (kind: TopicKind, batches: number) => void = () => undefined,
  ) {}

  /** Resolves with this batch's result once it is stored (alone or in a group); rejects as storeBatch does. */
  store(kind: TopicKind, messages: MessageRows<TopicKind>[], shard: number): Promise<StoreResult> {
    if (kind === 'assignment') return storeBatch(this.pool, kind, messages, shard, this.opts)
    return new Promise<StoreResult>((resolve, reject) => {
      const queue = this.#waiting.get(kind) ?? []
      this.#waiting.set(kind, queue)
      const rows = messages.reduce((n, m) => n + m.rows.length, 0)
      queue.push({ messages, shard, rows, resolve, reject })
      if (!this.#busy.has(kind) && queue.length === 1) setImmediate(() => this.#next(kind))
    })
  }

  #next(kind: TopicKind): void {
    if (this.#busy.has(kind)) return
    const queue = this.#waiting.get(kind) ?? []
    let taken = 0
    let rows = 0
    while (taken < queue.length && (taken === 0 || rows + queue[taken]!.rows <= GROUP_ROWS))
      rows += queue[taken++]!.rows
    const group = queue.splice(0, taken)
    if (group.length === 0) return
    this.#busy.add(kind)
    void this.#store(kind as 'meter' | 'vehicle', group).finally(() => {
      this.#busy.delete(kind)
      this.#next(kind)
    })
  }

  async #store(kind: 'meter' | 'vehicle', group: Waiting[]): Promise<void> {
    if (group.length > 1) {
      let results: StoreResult[] | null
      try {
        results = await storeGroup(this.pool, kind, group, this.opts)
      } catch (err) {
        for (const w of group) w.reject(err)
        return
      }
      if (results) {
        this.onGroup(kind, group.length)
        group.forEach((w, i) => w.resolve(results[i]!))
        return
      }
    }
    for (const w of group) {
      try {
        w.resolve(await storeBatch(this.pool, kind, w.messages, w.shard, this.opts))
        this.onGroup(kind, 1)
      } catch (err) {
        w.reject(err)
      }
    }
  }
}
