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
 * The vehicles below `below` and the window they were counted over, for the watermarks a request has
 * read (`closedBefore`): the kept alerts when they hold for that window, with no further statement;
 * otherwise they are brought up to date in a snapshot, whose own watermarks then set the window. The
 * refresh runs on the connection that snapshot holds: a request never takes a second pooled
 * connection, so a small pool under load cannot wait on itself.
 */
async function currentAlerts(
  replica: pg.Pool,
  alerts: AlertsState,
  closedBefore: SnapshotState['closedBefore'],
  below: number,
  now: () => number,
): Promise<{ window: Range; list: AlertList }> {
  const current = alertsWindow(closedBefore, now())
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
  // One statement when the alerts are kept (cached): a fleet answer is then one round trip. When they
  // are due to be brought up to date, that is done in a snapshot of its own, as the alerts route does.
  app.get('/analytics/fleet/summary', { schema: fleetSummaryRouteSchema }, async (req) => {
    const window = resolveWindow(req.query, opts.now(), opts.maxWindowDays)
    const totals = await fleetTotals(app.replica, window)
    const { list } = await currentAlerts(app.replica, alerts, totals.closedBefore, opts.threshold, opts.now)
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
    const { closedBefore } = await readState(app.replica)
    const { window, list } = await currentAlerts(app.replica, alerts, closedBefore, below, opts.now)
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
