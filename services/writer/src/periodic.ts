/**
 * Runs a task at start and then every `intervalMs`, never two runs at once (a tick that finds the
 * previous run still going is skipped). A failed run is handed to `onError` with the number of runs
 * that have failed in a row; the next tick tries again, and `onRecover` follows the first success.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private failures = 0

  constructor(
    private readonly opts: {
      intervalMs: number
      task: () => Promise<void>
      onError: (err: unknown, failuresInARow: number) => void
      onRecover?: () => void
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
      .then(
        () => {
          if (this.failures > 0) this.opts.onRecover?.()
          this.failures = 0
        },
        (err: unknown) => {
          this.failures++
          this.opts.onError(err, this.failures)
        },
      )
      .finally(() => {
        this.running = undefined
      })
  }
}
