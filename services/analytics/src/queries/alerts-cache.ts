// The efficiency alerts, computed incrementally. The answer sums 24 closed hours of per-vehicle DC and
// AC; recomputing it from the rollups reads devices x 24 rows (hundreds of ms at 10,000 vehicles).
// Instead each hour's per-vehicle values are read once and kept with the hour's version; the window's
// totals are kept too. At most once per `ttlMs`, the versions are read (one small query): an hour that
// left the window is subtracted, an hour that entered or whose version moved (a late reading, a
// register correction) is read again and swapped in. When the hour closes, that is one hour's rows, not
// 24 hours'. A move of the global version (assignments, a new vehicle) reads every hour again.
// The totals are exact decimals; the threshold is applied per request, so every threshold shares them.
import type pg from 'pg'
import { readAlertHours, readAlertVersions, type AlertCell, type AlertRow } from './alerts.js'
import {
  addScaled,
  compareScaledProducts,
  parseScaledDecimal,
  scaledText,
  subtractScaled,
  type ScaledDecimal,
} from '@energy-ingest/db'

export interface AlertList {
  items: AlertRow[]
  /** Replica replay time of the snapshot the list was computed in. */
  asOf: Date
}

interface Totals {
  dc: ScaledDecimal
  ac: ScaledDecimal
  /** Hours of the window with a DC rollup row: the vehicle reported in the window. */
  dcHours: number
}

export interface AlertsStateOptions {
  ttlMs: number
  now?: () => number
  /** Called with the number of hours read by each refresh (a metric). */
  onHoursRead?: (hours: number) => void
}

type Window = { from: Date; to: Date }

const keyOf = (window: Window) => `${window.from.getTime()}|${window.to.getTime()}`

const ZERO: ScaledDecimal = { units: 0n, scale: 0 }
const ONE: ScaledDecimal = { units: 1n, scale: 0 }

export class AlertsState {
  private readonly hours = new Map<number, { version: string; cells: Map<string, AlertCell> }>()
  private readonly totals = new Map<string, Totals>()
  private global: string | null = null
  private checkedAt = -Infinity
  private windowKey = ''
  private asOf = new Date(0)
  /** Bumped by every change of the totals: the per-threshold lists below are keyed by it. */
  private generation = 0
  private readonly lists = new Map<string, AlertRow[]>()
  private refreshing: Promise<void> | null = null
  private readonly now: () => number

  constructor(private readonly opts: AlertsStateOptions) {
    this.now = opts.now ?? Date.now
  }

  /**
   * Every vehicle below `below` over `window`, worst first. The totals are brought up to date on
   * `client` (in its snapshot, whose replay time is `asOf`) when they are older than the ttl or were
   * kept for another window.
   */
  async list(client: pg.ClientBase, window: Window, below: number, asOf: Date): Promise<AlertList> {
    const key = keyOf(window)
    while (this.refreshing) await this.refreshing
    if (!this.fresh(key)) {
      this.refreshing = this.refresh(client, window, key, asOf).finally(() => {
        this.refreshing = null
      })
      await this.refreshing
    }
    return { items: this.itemsBelow(below), asOf: this.asOf }
  }

  /**
   * The list `list` would answer without reading anything: the totals are kept for `window` and are
   * younger than the ttl. Undefined otherwise (then call `list` in a snapshot).
   */
  cached(window: Window, below: number): AlertList | undefined {
    if (this.refreshing || !this.fresh(keyOf(window))) return undefined
    return { items: this.itemsBelow(below), asOf: this.asOf }
  }

  /** Whether the totals are kept for the window of `key` and younger than the ttl. */
  private fresh(key: string): boolean {
    return key === this.windowKey && this.now() - this.checkedAt < this.opts.ttlMs
  }

  private async refresh(client: pg.ClientBase, window: Window, key: string, asOf: Date): Promise<void> {
    const versions = await readAlertVersions(client, window)
    if (versions.global !== this.global) {
      this.hours.clear()
      this.totals.clear()
      this.global = versions.global
    }
    for (const hour of [...this.hours.keys()]) {
      if (versions.hours.get(hour) !== this.hours.get(hour)!.version) this.dropHour(hour)
    }
    const missing = [...versions.hours.keys()].filter((h) => !this.hours.has(h))
    const read = await readAlertHours(client, missing)
    for (const [hour, cells] of read) this.addHour(hour, versions.hours.get(hour)!, cells)
    this.opts.onHoursRead?.(missing.length)
    if (missing.length > 0 || key !== this.windowKey) {
      this.generation++
      this.lists.clear()
    }
    this.windowKey = key
    this.checkedAt = this.now()
    this.asOf = asOf
  }

  private addHour(hour: number, version: string, cells: Map<string, AlertCell>): void {
    this.hours.set(hour, { version, cells })
    for (const [vehicleId, cell] of cells) {
      const t = this.totals.get(vehicleId) ?? { dc: ZERO, ac: ZERO, dcHours: 0 }
      if (cell.dc !== null) {
        t.dc = addScaled(t.dc, cell.dc)
        t.dcHours++
      }
      if (cell.ac !== null) t.ac = addScaled(t.ac, cell.ac)
      this.totals.set(vehicleId, t)
    }
  }

  private dropHour(hour: number): void {
    const entry = this.hours.get(hour)
    if (!entry) return
    this.hours.delete(hour)
    for (const [vehicleId, cell] of entry.cells) {
      const t = this.totals.get(vehicleId)
      if (!t) continue
      if (cell.dc !== null) {
        t.dc = subtractScaled(t.dc, cell.dc)
        t.dcHours--
      }
      if (cell.ac !== null) t.ac = subtractScaled(t.ac, cell.ac)
      if (t.dcHours === 0 && t.ac.units === 0n) this.totals.delete(vehicleId)
    }
  }

  /** Vehicles with DC in the window, AC > 0 and DC < below x AC, lowest ratio first, then by id. */
  private itemsBelow(below: number): AlertRow[] {
    const key = `${this.generation}|${below}`
    const cached = this.lists.get(key)
    if (cached) return cached
    const threshold = parseScaledDecimal(String(below))
    const items: AlertRow[] = []
    for (const [vehicleId, t] of this.totals) {
      if (t.dcHours === 0 || t.ac.units <= 0n) continue
      if (compareScaledProducts(t.dc, ONE, threshold, t.ac) >= 0) continue
      const dc = Number(scaledText(t.dc))
      const ac = Number(scaledText(t.ac))
      items.push({ vehicleId, efficiencyRatio: dc / ac, totalDcDelivered: dc, totalAcConsumed: ac })
    }
    items.sort(
      (a, b) =>
        a.efficiencyRatio - b.efficiencyRatio ||
        (a.vehicleId < b.vehicleId ? -1 : a.vehicleId > b.vehicleId ? 1 : 0),
    )
    // A few thresholds at most are in use (the default and what clients ask); keep the map small.
    if (this.lists.size >= 16) this.lists.clear()
    this.lists.set(key, items)
    return items
  }
}
