/**
 * Runs a task at start and then every `intervalMs`, never two runs at once (a tick that finds the
 * previous run still going is skipped). A failed run is handed to `onError`; the next tick tries again.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined

  constructor(
    private readonly opts: {
      intervalMs: number
      task: () => Promise<void>
      onError: (err: unknown) => void
    },
  ) {}

  start(): void {
    if (this.timer) return
    this.tick()
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs)
    this.timer.unref()
  }

  /** Stops the timer and waits for the run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.running
  }

  private tick(): void {
    if (this.running) return
    this.running = this.opts
      .task()
      .catch(this.opts.onError)
      .finally(() => {
        this.running = undefined
      })
  }
}
