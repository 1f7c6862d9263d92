import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type pg from 'pg'
import { Counter } from 'prom-client'
import { alertsWindow } from '../queries/alerts.js'
import { AlertsState, type AlertList } from '../queries/alerts-cache.js'
import { fleetTotals } from '../queries/fleet.js'
import { inSnapshot, readState, type SnapshotState } from '../queries/snapshot.js'
import type { Range } from '../queries/window.js'
import {
  AlertsQuerySchema,
  AlertsSchema,
  FleetSummarySchema,
  WindowQuerySchema,
  errorResponses,
} from '../schemas.js'
import { resolveWindow } from '../window-params.js'

const fleetSummaryRouteSchema = {
  operationId: 'getFleetSummary',
  tags: ['analytics'],
  summary: 'Fleet AC, DC, efficiency, active devices and battery temperature over a window',
  querystring: WindowQuerySchema,
  response: { 200: FleetSummarySchema, ...errorResponses },
}

const alertsRouteSchema = {
  operationId: 'getEfficiencyAlerts',
  tags: ['analytics'],
  summary: 'Vehicles whose efficiency over the last 24 closed hours is below a threshold, worst first',
  querystring: AlertsQuerySchema,
  response: { 200: AlertsSchema, ...errorResponses },
}

/**
 * The vehicles below `below` and the window they were counted over. One statement (the watermarks)
 * when the kept alerts hold for the window those give; otherwise they are brought up to date in a
 * snapshot, whose own watermarks then set the window.
 */
async function currentAlerts(
  replica: pg.Pool,
  alerts: AlertsState,
  below: number,
  now: () => number,
): Promise<{ window: Range; list: AlertList }> {
  const current = alertsWindow((await readState(replica)).closedBefore, now())
  const kept = alerts.cached(current, below)
  if (kept) return { window: current, list: kept }
  return inSnapshot(replica, async (client, state) => {
    const window = alertsWindow(state.closedBefore, now())
    return { window, list: await alerts.list(client, window, below, state.asOf) }
  })
}

/** Fleet-level answers: the summary over a window, and the efficiency alerts. */
const fleetRoutes: FastifyPluginAsyncTypebox<{
  maxWindowDays: number
  now: () => number
  threshold: number
  alertsCacheMs: number
}> = async (app, opts) => {
  const hoursRead = new Counter({
    name: app.prometheus.name('alert_periods_read_total'),
    help: 'Hours of per-vehicle rollups read by the incremental efficiency alerts (24 on a full read)',
    registers: [app.prometheus.registry],
  })
  const alerts = new AlertsState({ ttlMs: opts.alertsCacheMs, onHoursRead: (n) => hoursRead.inc(n) })
  // Brought up to date on the connection the request already holds, in its snapshot: a request never
  // takes a second pooled connection, so a small pool under load cannot wait on itself.
  const alertList = (client: pg.ClientBase, state: SnapshotState, window: Range, below: number) =>
    alerts.list(client, window, below, state.asOf)

  // One statement when the alerts are kept (cached): a fleet answer is then one round trip. When they
  // are due to be brought up to date, that is done in a snapshot of its own, as the alerts route does.
  app.get('/analytics/fleet/summary', { schema: fleetSummaryRouteSchema }, async (req) => {
    const window = resolveWindow(req.query, opts.now(), opts.maxWindowDays)
    const totals = await fleetTotals(app.replica, window)
    const alertsIn = alertsWindow(totals.closedBefore, opts.now())
    const list =
      alerts.cached(alertsIn, opts.threshold) ??
      (await inSnapshot(app.replica, (client, state) =>
        alertList(client, state, alertsWindow(state.closedBefore, opts.now()), opts.threshold),
      ))
    const ac = Number(totals.meters.kwh)
    const dc = Number(totals.vehicles.kwh)
    return {
      windowStart: window.from.toISOString(),
      windowEnd: window.to.toISOString(),
      asOf: totals.asOf.toISOString(),
      meters: { active: totals.meters.active, totalAcConsumed: ac, readings: totals.meters.readings },
      vehicles: {
        active: totals.vehicles.active,
        totalDcDelivered: dc,
        readings: totals.vehicles.readings,
        avgBatteryTemp:
          totals.vehicles.readings > 0 ? Number(totals.vehicles.tempSum) / totals.vehicles.readings : null,
      },
      fleetEfficiencyRatio: ac > 0 ? dc / ac : null,
      vehiclesBelowThreshold: list.items.length,
      threshold: opts.threshold,
    }
  })

  app.get('/analytics/efficiency/alerts', { schema: alertsRouteSchema }, async (req) => {
    const below = req.query.below ?? opts.threshold
    const limit = req.query.limit ?? 50
    const offset = req.query.offset ?? 0
    const { window, list } = await currentAlerts(app.replica, alerts, below, opts.now)
    return {
      windowStart: window.from.toISOString(),
      windowEnd: window.to.toISOString(),
      asOf: list.asOf.toISOString(),
      threshold: below,
      total: list.items.length,
      limit,
      offset,
      items: list.items.slice(offset, offset + limit),
    }
  })
}

export default fleetRoutes
