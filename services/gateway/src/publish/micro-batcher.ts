export interface MicroBatcherOptions<T> {
  /**
   * How long the first waiting item waits for company while a send is in flight. With none in flight
   * a submission goes at once, and what gathers behind a send goes as soon as that send returns.
   */
  lingerMs: number
  /** A flush starts at once when this many items wait; a flush takes at most this many (whole submissions). */
  maxItems: number
  /** Items waiting or in flight; a submission beyond this is refused at once (back-pressure). */
  maxPending: number
  /** Flushes in flight at once. */
  maxInFlight: number
  /**
   * A submission not acknowledged this long after it was made fails (the send itself may still land:
   * at-least-once); a send running longer than this is "hung" until it settles.
   */
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
  /** Its deadline; cleared when it settles first. */
  timer: NodeJS.Timeout | undefined
  /** Answered already (acknowledged, failed, or past its deadline). */
  settled: boolean
  /** Still in the queue (not taken by a flush). */
  queued: boolean
}

interface Flight {
  done: Promise<void>
  /** Still running past the deadline. */
  hung: boolean
}

/** Queued entries that expired are dropped lazily; the queue is compacted once they are this many and half of it. */
const COMPACT_AFTER = 1024

/**
 * Gathers the items of many requests into one call of `send` (kafkajs has no linger of its own). A
 * submission to an idle batcher goes at once; while sends are in flight, the items of later requests
 * gather behind them, and go when a send returns and none is left in flight, or after `lingerMs` in
 * another slot: the batch grows with the load, and a lone request does not wait. Every submission settles with the flush that carried it, or fails at
 * its deadline. A flush holds its slot and its items until `send` itself settles, however late: what
 * the broker has not answered still takes memory, so it still counts against `maxPending`, and while
 * every slot holds a hung send, new submissions are refused at once.
 */
export class MicroBatcher<T> {
  readonly #opts: MicroBatcherOptions<T>
  #queue: Submission<T>[] = []
  #queuedItems = 0
  #expiredInQueue = 0
  #inFlightItems = 0
  #flights = new Set<Flight>()
  #hung = 0
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(opts: MicroBatcherOptions<T>) {
    this.#opts = opts
  }

  /** Items waiting or in flight (in flight: until their send settles, past its deadline too). */
  get pending(): number {
    return this.#queuedItems + this.#inFlightItems
  }

  /** Sends not settled yet. */
  get inFlight(): number {
    return this.#flights.size
  }

  submit(items: T[]): Promise<void> {
    if (this.#closed) return Promise.reject(new BatcherClosedError('closed'))
    if (items.length === 0) return Promise.resolve()
    if (this.#flights.size >= this.#opts.maxInFlight && this.#hung === this.#flights.size) {
      return Promise.reject(
        new BatcherOverloadedError(`all ${this.#hung} sends are unanswered past ${this.#opts.timeoutMs} ms`),
      )
    }
    if (this.pending + items.length > this.#opts.maxPending) {
      return Promise.reject(new BatcherOverloadedError(`${this.pending} items pending`))
    }
    return new Promise<void>((resolve, reject) => {
      const submission: Submission<T> = {
        items,
        resolve,
        reject,
        timer: undefined,
        settled: false,
        queued: true,
      }
      submission.timer = setTimeout(() => this.#expire(submission), this.#opts.timeoutMs)
      this.#queue.push(submission)
      this.#queuedItems += items.length
      if (this.#queuedItems >= this.#opts.maxItems || this.#flights.size === 0) this.#flush()
      else this.#timer ??= setTimeout(() => this.#flush(), this.#opts.lingerMs)
    })
  }

  /** Refuses new items, flushes what waits and waits for every flush in flight. */
  async close(): Promise<void> {
    this.#closed = true
    while (this.#queuedItems > 0 || this.#flights.size > 0) {
      this.#flush()
      await Promise.allSettled([...this.#flights].map((f) => f.done))
    }
  }

  /** A submission's deadline: it fails; if it never left the queue, its items are forgotten too. */
  #expire(s: Submission<T>): void {
    if (s.settled) return
    s.settled = true
    s.reject(new FlushTimeoutError(`not acknowledged within ${this.#opts.timeoutMs} ms`))
    if (!s.queued) return
    this.#queuedItems -= s.items.length
    this.#expiredInQueue++
    if (this.#expiredInQueue >= COMPACT_AFTER && this.#expiredInQueue * 2 >= this.#queue.length) {
      this.#queue = this.#queue.filter((q) => !q.settled)
      this.#expiredInQueue = 0
    }
  }

  #flush(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    while (this.#flights.size < this.#opts.maxInFlight) {
      const taken = this.#take()
      if (taken.length === 0) break
      const flight: Flight = { done: Promise.resolve(), hung: false }
      flight.done = this.#send(taken, flight).finally(() => {
        this.#flights.delete(flight)
        // Items that waited for a free slot, or behind the last send in flight, go now; a trickle
        // behind other sends still in flight waits for its linger.
        if (this.#queuedItems >= this.#opts.maxItems || this.#closed || this.#flights.size === 0)
          this.#flush()
        else if (this.#queuedItems > 0) this.#timer ??= setTimeout(() => this.#flush(), this.#opts.lingerMs)
      })
      this.#flights.add(flight)
    }
  }

  /** Whole live submissions from the head of the queue, up to maxItems (at least one). */
  #take(): Submission<T>[] {
    const taken: Submission<T>[] = []
    let count = 0
    let i = 0
    for (; i < this.#queue.length; i++) {
      const next = this.#queue[i]!
      if (next.settled) {
        this.#expiredInQueue--
        continue
      }
      if (taken.length > 0 && count + next.items.length > this.#opts.maxItems) break
      next.queued = false
      taken.push(next)
      count += next.items.length
    }
    this.#queue.splice(0, i)
    this.#queuedItems -= count
    return taken
  }

  async #send(taken: Submission<T>[], flight: Flight): Promise<void> {
    const items = taken.length === 1 ? taken[0]!.items : taken.flatMap((s) => s.items)
    this.#inFlightItems += items.length
    const started = performance.now()
    const hangTimer = setTimeout(() => {
      flight.hung = true
      this.#hung++
    }, this.#opts.timeoutMs)
    let error: unknown
    try {
      await this.#opts.send(items)
    } catch (err) {
      error = err ?? new Error('send failed')
    } finally {
      clearTimeout(hangTimer)
      if (flight.hung) this.#hung--
      this.#inFlightItems -= items.length
    }
    this.#opts.onFlush?.({
      items: items.length,
      submissions: taken.length,
      ms: performance.now() - started,
      error,
    })
    for (const s of taken) {
      if (s.settled) continue
      s.settled = true
      clearTimeout(s.timer)
      if (error === undefined) s.resolve()
      else s.reject(error)
    }
  }
}
