/** One thing the supervisor keeps running: a service, the broker, a database server. */
export interface SupervisedUnit {
  readonly name: string
  /** Where its output goes: named when it is given up on. */
  readonly logFile: string
  /** Starts it (again) and resolves once it is up; the returned promise settles when it exits. */
  start(): Promise<{ exited: Promise<number | null> }>
}

export interface SupervisorOptions {
  /** A unit that exits this many times within `windowMs` is in a crash loop: the stack gives up. */
  maxExits: number
  windowMs: number
  /** Back-off before the n-th consecutive restart: initialMs × 2^(n-1), at most maxMs. */
  initialBackoffMs: number
  maxBackoffMs: number
  log: (message: string) => void
  /** Called once, with the unit in a crash loop (or that could not be restarted). */
  onGiveUp: (unit: SupervisedUnit, reason: string) => void
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref())

/** The back-off before restart number `attempt` (1-based): capped exponential. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1))
}

/**
 * Restarts units that exit while the stack runs, with capped exponential back-off, and logs each
 * restart. A unit that exits `maxExits` times within `windowMs` is a crash loop: the supervisor stops
 * restarting anything and reports it (the stack then stops, naming the culprit and its log).
 */
export class Supervisor {
  private stopping = false
  private gaveUp = false
  private readonly exits = new Map<string, number[]>()
  private readonly loops: Promise<void>[] = []

  constructor(private readonly opts: SupervisorOptions) {}

  /** Watches a unit that is already running (its first start is the caller's). */
  watch(unit: SupervisedUnit, exited: Promise<number | null>): void {
    this.loops.push(this.loop(unit, exited))
  }

  /** No more restarts: the stack is shutting down, so exits from now on are expected. */
  stop(): void {
    this.stopping = true
  }

  /** Resolves once every watch loop has ended (after stop() and the units' exits). */
  async settled(): Promise<void> {
    await Promise.all(this.loops)
  }

  private get done(): boolean {
    return this.stopping || this.gaveUp
  }

  private async loop(unit: SupervisedUnit, firstExit: Promise<number | null>): Promise<void> {
    const now = this.opts.now ?? Date.now
    const sleep = this.opts.sleep ?? defaultSleep
    let exited = firstExit
    let consecutive = 0
    for (;;) {
      const code = await exited
      if (this.done) return
      const t = now()
      const recent = [...(this.exits.get(unit.name) ?? []), t].filter((e) => t - e < this.opts.windowMs)
      this.exits.set(unit.name, recent)
      if (recent.length >= this.opts.maxExits) {
        return this.giveUp(
          unit,
          `${unit.name} exited ${recent.length} times within ${Math.round(this.opts.windowMs / 1000)} s (last code ${code})`,
        )
      }
      consecutive = recent.length
      const wait = backoffMs(consecutive, this.opts.initialBackoffMs, this.opts.maxBackoffMs)
      this.opts.log(`${unit.name} exited (code ${code}); restarting in ${wait} ms (see ${unit.logFile})`)
      await sleep(wait)
      if (this.done) return
      try {
        exited = (await unit.start()).exited
        this.opts.log(`${unit.name} restarted`)
      } catch (err) {
        // A failed restart counts as one more exit; the loop decides whether to try again.
        this.opts.log(`${unit.name} did not come back: ${(err as Error).message}`)
        exited = Promise.resolve(null)
      }
    }
  }

  private giveUp(unit: SupervisedUnit, reason: string): void {
    if (this.gaveUp) return
    this.gaveUp = true
    this.opts.onGiveUp(unit, reason)
  }
}
