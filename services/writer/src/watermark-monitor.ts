import { readWatermark, type Queryable, type ReadingKind } from '@energy-ingest/db'
import type { Logger } from 'pino'
import type { Metrics } from './metrics.js'
import { Periodic } from './periodic.js'

export interface WatermarkMonitorOptions {
  db: Queryable
  intervalMs: number
  metrics: Metrics
  log: Logger
  now: () => Date
}

const KINDS: readonly ReadingKind[] = ['meter', 'vehicle']

/**
 * Exports `writer_rollup_watermark_age_seconds{kind}` on a timer: how long ago the rollup watermark's
 * instant was (0 in per-batch mode, where every hour is complete). It grows past an hour plus the grace
 * period when no writer closes hours. While the watermark cannot be read, the age is still computed
 * from the last value read, so it keeps growing rather than freezing.
 */
export class WatermarkMonitor {
  private readonly periodic: Periodic
  private readonly closedBefore = new Map<ReadingKind, Date | null>()

  constructor(private readonly opts: WatermarkMonitorOptions) {
    this.periodic = new Periodic({
      intervalMs: opts.intervalMs,
      task: () => this.poll(),
      onError: (err, inARow) => {
        if (inARow === 1) opts.log.warn({ err }, 'reading the rollup watermarks failed; retrying every tick')
      },
      onRecover: () => opts.log.info('reading the rollup watermarks works again'),
    })
  }

  async poll(): Promise<void> {
    try {
      for (const kind of KINDS) this.closedBefore.set(kind, await readWatermark(this.opts.db, kind))
    } finally {
      const now = this.opts.now().getTime()
      for (const [kind, closedBefore] of this.closedBefore) {
        const age = closedBefore === null ? 0 : Math.max(0, (now - closedBefore.getTime()) / 1000)
        this.opts.metrics.rollupWatermarkAge.set({ kind }, age)
      }
    }
  }

  start(): void {
    this.periodic.start()
  }

  stop(): Promise<void> {
    return this.periodic.stop()
  }
}
