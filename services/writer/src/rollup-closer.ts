import { closeHours, withClient, type ReadingKind } from '@energy-ingest/db'
import type { Pool } from 'pg'
import type { Logger } from 'pino'
import type { Metrics } from './metrics.js'

export interface RollupCloserOptions {
  pool: Pool
  intervalMs: number
  graceMs: number
  /** The clock hours close by (default: the system clock). */
  now?: () => Date
  metrics: Metrics
  log: Logger
}

/**
 * Materialises closed hours into *_hourly on a timer (every writer runs one; a second closer of the
 * same kind skips instead of waiting). Catches up at most 24 hours per kind and tick.
 */
export class RollupCloser {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined

  constructor(private readonly opts: RollupCloserOptions) {}

  async tick(): Promise<void> {
    for (const kind of ['meter', 'vehicle'] as ReadingKind[]) {
      const r = await withClient(this.opts.pool, (client) =>
        closeHours(client, kind, {
          graceMs: this.opts.graceMs,
          ...(this.opts.now ? { now: this.opts.now() } : {}),
        }),
      )
      if (r.hoursClosed > 0) {
        this.opts.metrics.hoursClosed.inc({ type: kind }, r.hoursClosed)
        this.opts.log.info(
          { kind, hours: r.hoursClosed, rows: r.rows, closedBefore: r.closedBefore },
          'hours closed',
        )
      }
    }
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return
      this.running = this.tick()
        .catch((err: unknown) => this.opts.log.warn({ err }, 'closing hours failed; next tick retries'))
        .finally(() => {
          this.running = undefined
        })
    }, this.opts.intervalMs)
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.running
  }
}
