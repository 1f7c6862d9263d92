import type { Pool } from 'pg'
import type { Logger } from 'pino'
import type { Metrics } from './metrics.js'
import { Periodic } from './periodic.js'

// The primary's clock, so that a reader of the replica gets its lag as now() - beat_at in one clock.
const BEAT = 'UPDATE writer_heartbeat SET beat_at = now() WHERE id = 1'

export interface HeartbeatOptions {
  /** A pool of its own: a beat must not queue behind batches (that delay would read as replica lag). */
  pool: Pool
  intervalMs: number
  metrics: Metrics
  log: Logger
}

/**
 * Touches writer_heartbeat on the primary on a timer, whether or not data flows, so that analytics
 * on a replica can compute how far behind the primary it is (now() minus the replayed beat).
 */
export class Heartbeat {
  private readonly periodic: Periodic

  constructor(private readonly opts: HeartbeatOptions) {
    this.periodic = new Periodic({
      intervalMs: opts.intervalMs,
      task: () => this.beat(),
      onError: (err, inARow) => {
        opts.metrics.heartbeatFailures.inc()
        if (inARow === 1) opts.log.warn({ err }, 'heartbeat failed; retrying every tick')
      },
      onRecover: () => opts.log.info('heartbeat recovered'),
    })
  }

  async beat(): Promise<void> {
    const { rowCount } = await this.opts.pool.query(BEAT)
    if (rowCount !== 1) throw new Error('writer_heartbeat has no row (migration 0011 not applied?)')
  }

  start(): void {
    this.periodic.start()
  }

  stop(): Promise<void> {
    return this.periodic.stop()
  }
}
