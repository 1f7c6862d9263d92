// The efficiency alerts are computed over closed hours only, which change when an hour closes or a late
// reading is folded in. Recomputing them (devices x 24 hourly rows) for every request, and for every
// fleet summary, would make those routes cost ~100 ms each at 10,000 vehicles; one computation per
// window and threshold is kept for `ttlMs` and shared, with its own `asOf`.
import type pg from 'pg'
import { efficiencyAlerts, type AlertRow } from './alerts.js'

export interface AlertList {
  items: AlertRow[]
  /** Replica replay time of the snapshot the list was computed in. */
  asOf: Date
}

export class AlertsCache {
  private readonly entries = new Map<string, { expires: number; value: Promise<AlertList> }>()

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Every vehicle below `below` in `window`, worst first; computed at most once per ttl. */
  get(
    window: { from: Date; to: Date },
    below: number,
    compute: () => Promise<AlertList>,
  ): Promise<AlertList> {
    const key = `${window.from.getTime()}|${window.to.getTime()}|${below}`
    const now = this.now()
    const hit = this.entries.get(key)
    if (hit && hit.expires > now) return hit.value
    for (const [k, e] of this.entries) if (e.expires <= now) this.entries.delete(k)
    const value = compute()
    this.entries.set(key, { expires: now + this.ttlMs, value })
    // A failed computation is not cached.
    value.catch(() => this.entries.delete(key))
    return value
  }
}

/** Loads the whole list (bounded by the fleet size) for the cache. */
export async function loadAlertList(
  client: pg.ClientBase,
  window: { from: Date; to: Date },
  below: number,
  asOf: Date,
): Promise<AlertList> {
  return { items: await efficiencyAlerts(client, window, below), asOf }
}
