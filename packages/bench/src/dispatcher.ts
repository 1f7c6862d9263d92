/** Runs at most `concurrency` tasks at once; `submit` waits while all slots are busy (backpressure). */
export class Dispatcher {
  private running = 0
  private readonly waiting: (() => void)[] = []
  private readonly idle: (() => void)[] = []

  constructor(private readonly concurrency: number) {}

  async submit(task: () => Promise<void>): Promise<void> {
    while (this.running >= this.concurrency) await new Promise<void>((r) => this.waiting.push(r))
    this.running++
    void task()
      .catch(() => undefined) // tasks record their own failures
      .finally(() => {
        this.running--
        this.waiting.shift()?.()
        if (this.running === 0) for (const r of this.idle.splice(0)) r()
      })
  }

  async drain(): Promise<void> {
    if (this.running === 0) return
    await new Promise<void>((r) => this.idle.push(r))
  }
}

/** Pacing of an open-loop generator (not a synchronisation): resolves at the wall-clock time `atMs`. */
export function until(atMs: number): Promise<void> {
  const ms = atMs - Date.now()
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve()
}
