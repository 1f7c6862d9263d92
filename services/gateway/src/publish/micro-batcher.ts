export interface MicroBatcherOptions<T> {
  /** How long the first waiting item waits for company before its flush starts. */
  lingerMs: number
  /** A flush starts at once when this many items wait; a flush takes at most this many (whole submissions). */
  maxItems: number
  /** Items waiting or in flight; a submission beyond this is refused at once (back-pressure). */
  maxPending: number
  /** Flushes in flight at once. */
  maxInFlight: number
  /** A flush not settled by then fails its submissions (the send itself may still land: at-least-once). */
  timeoutMs: number
  send: (items: T[]) => Promise<void>
  onFlush?: (stats: { items: number; submissions: number; ms: number; error?: unknown }) => void
}

export class BatcherOverloadedError extends Error {
  override name = 'BatcherOverloadedError'
}
export class BatcherClosedError extends Error {
  override name = 'BatcherClosedError'
}
export class FlushTimeoutError extends Error {
  override name = 'FlushTimeoutError'
}

interface Submission<T> {
  items: T[]
  resolve: () => void
  reject: (err: unknown) => void
}

/**
 * Gathers the items of many requests for up to `lingerMs` (kafkajs has no linger of its own) and hands
 * them to `send` in one call; every submission settles with the flush that carried it.
 */
export class MicroBatcher<T> {
  readonly #opts: MicroBatcherOptions<T>
  #queue: Submission<T>[] = []
  #queuedItems = 0
  #inFlightItems = 0
  #inFlight = new Set<Promise<void>>()
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(opts: MicroBatcherOptions<T>) {
    this.#opts = opts
  }

  /** Items waiting or in flight. */
  get pending(): number {
    return this.#queuedItems + this.#inFlightItems
  }

  submit(items: T[]): Promise<void> {
    if (this.#closed) return Promise.reject(new BatcherClosedError('closed'))
    if (items.length === 0) return Promise.resolve()
    if (this.pending + items.length > this.#opts.maxPending) {
      return Promise.reject(new BatcherOverloadedError(`${this.pending} items pending`))
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ items, resolve, reject })
      this.#queuedItems += items.length
      if (this.#queuedItems >= this.#opts.maxItems) this.#flush()
      else this.#timer ??= setTimeout(() => this.#flush(), this.#opts.lingerMs)
    })
  }

  /** Refuses new items, flushes what waits and waits for every flush in flight. */
  async close(): Promise<void> {
    this.#closed = true
    while (this.#queue.length > 0 || this.#inFlight.size > 0) {
      this.#flush()
      await Promise.allSettled([...this.#inFlight])
    }
  }

  #flush(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    while (this.#queue.length > 0 && this.#inFlight.size < this.#opts.maxInFlight) {
      const taken = this.#take()
      const flight = this.#send(taken).finally(() => {
        this.#inFlight.delete(flight)
        // Items that waited for a free slot go now; a fresh trickle waits for its linger.
        if (this.#queuedItems >= this.#opts.maxItems || this.#closed) this.#flush()
        else if (this.#queue.length > 0) this.#timer ??= setTimeout(() => this.#flush(), this.#opts.lingerMs)
      })
      this.#inFlight.add(flight)
    }
  }

  #take(): Submission<T>[] {
    const taken: Submission<T>[] = []
    let count = 0
    while (this.#queue.length > 0) {
      const next = this.#queue[0]!
      if (taken.length > 0 && count + next.items.length > this.#opts.maxItems) break
      taken.push(this.#queue.shift()!)
      count += next.items.length
    }
    this.#queuedItems -= count
    return taken
  }

  async #send(taken: Submission<T>[]): Promise<void> {
    const items = taken.length === 1 ? taken[0]!.items : taken.flatMap((s) => s.items)
    this.#inFlightItems += items.length
    const started = performance.now()
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new FlushTimeoutError(`not acknowledged within ${this.#opts.timeoutMs} ms`)),
        this.#opts.timeoutMs,
      )
    })
    let error: unknown
    try {
      await Promise.race([this.#opts.send(items), deadline])
    } catch (err) {
      error = err ?? new Error('send failed')
    } finally {
      clearTimeout(timer)
      this.#inFlightItems -= items.length
    }
    this.#opts.onFlush?.({
      items: items.length,
      submissions: taken.length,
      ms: performance.now() - started,
      error,
    })
    for (const s of taken) {
      if (error === undefined) s.resolve()
      else s.reject(error)
    }
  }
}
