/** What a refused charge reports: which budget ran out, its size, and when the window restarts. */
export interface Refusal {
  ok: false
  budget: 'requests' | 'readings'
  limit: number
  retryAfterS: number
}
export type Charge = { ok: true } | Refusal

interface Window {
  start: number
  requests: number
  readings: number
}

export interface FixedWindowOptions {
  windowMs: number
  now: () => number
  /** Identities tracked at most; past it, expired windows are swept, then the oldest dropped. */
  maxKeys: number
}

/**
 * Two budgets per identity, requests and readings, over a fixed window that starts at the identity's
 * first charge. A refused charge is not counted. A limit of 0 means unlimited.
 */
export class FixedWindowLimiter {
  readonly #opts: FixedWindowOptions
  readonly #windows = new Map<string, Window>()
  #lastSweep = Number.NEGATIVE_INFINITY

  constructor(opts: FixedWindowOptions) {
    this.#opts = opts
  }

  /** Identities currently tracked. */
  get size(): number {
    return this.#windows.size
  }

  chargeRequest(key: string, limit: number): Charge {
    return this.#charge(key, 'requests', 1, limit)
  }

  chargeReadings(key: string, count: number, limit: number): Charge {
    return this.#charge(key, 'readings', count, limit)
  }

  #charge(key: string, budget: 'requests' | 'readings', count: number, limit: number): Charge {
    if (limit === 0) return { ok: true }
    const now = this.#opts.now()
    const window = this.#windowOf(key, now)
    if (window[budget] + count > limit) {
      const retryAfterS = Math.max(1, Math.ceil((window.start + this.#opts.windowMs - now) / 1000))
      return { ok: false, budget, limit, retryAfterS }
    }
    window[budget] += count
    return { ok: true }
  }

  #windowOf(key: string, now: number): Window {
    const existing = this.#windows.get(key)
    // A clock set back also starts a new window, rather than one that never ends.
    if (existing && now >= existing.start && now - existing.start < this.#opts.windowMs) return existing
    if (existing) this.#windows.delete(key)
    else if (this.#windows.size >= this.#opts.maxKeys) this.#makeRoom(now)
    const fresh = { start: now, requests: 0, readings: 0 }
    this.#windows.set(key, fresh)
    return fresh
  }

  #makeRoom(now: number): void {
    // A full sweep at most once per window; in between, the oldest identity makes room.
    if (now - this.#lastSweep >= this.#opts.windowMs) {
      this.#lastSweep = now
      for (const [key, w] of this.#windows) {
        if (now - w.start >= this.#opts.windowMs || now < w.start) this.#windows.delete(key)
      }
    }
    if (this.#windows.size >= this.#opts.maxKeys) {
      const oldest = this.#windows.keys().next()
      if (!oldest.done) this.#windows.delete(oldest.value)
    }
  }
}
