// The fleet page: tiles from the fleet summary, efficiency and energy per hour, the alerts list.
import { api, type Alerts, type FleetSeries, type FleetSummary } from './api.js'
import { acDcLines, renderChart } from './charts.js'
import { browserTimeZone, esc, fmt } from './format.js'
import { tilesHtml } from './tiles.js'

export type Range = '24h' | '7d'
const RANGE_MS: Record<Range, number> = { '24h': 86_400_000, '7d': 7 * 86_400_000 }
/** Beyond this age of `asOf` the freshness tile warns. */
export const STALE_MS = 5 * 60_000
const PAGE = 10

interface AlertsState {
  sort: { key: 'vehicleId' | 'efficiencyRatio' | 'totalDcDelivered' | 'totalAcConsumed'; asc: boolean }
  page: number
}
const alertsState: AlertsState = { sort: { key: 'efficiencyRatio', asc: true }, page: 0 }
let lastAlerts: Alerts | undefined

export function rangeControl(range: Range, name: string): string {
  return `<fieldset class="range"><legend>Range</legend>
  ${(['24h', '7d'] as Range[])
    .map(
      (r) =>
        `<label><input type="radio" name="${name}" value="${r}"${r === range ? ' checked' : ''}> ${r === '24h' ? 'Last 24 h' : 'Last 7 days'}</label>`,
    )
    .join('')}
</fieldset>`
}

/** The window ending where the summary's default window ends (the end of the server's current minute), so clocks need not agree. */
export function windowOf(serverNow: string, range: Range) {
  const to = Date.parse(serverNow)
  return { from: new Date(to - RANGE_MS[range]).toISOString(), to: new Date(to).toISOString() }
}

export async function renderFleet(main: HTMLElement, range: Range): Promise<void> {
  const latest = await api<FleetSummary>('/v1/analytics/fleet/summary')
  const w = windowOf(latest.windowEnd, range)
  const tz = browserTimeZone()
  const [summary, series, alerts] = await Promise.all([
    range === '24h' ? Promise.resolve(latest) : api<FleetSummary>('/v1/analytics/fleet/summary', w),
    api<FleetSeries>('/v1/analytics/fleet/series', { ...w, bucket: 'hour', tz }),
    api<Alerts>('/v1/analytics/efficiency/alerts', { limit: '500' }),
  ])
  lastAlerts = alerts
  const age = Date.now() - Date.parse(summary.asOf)
  const stale = age > STALE_MS
  main.innerHTML = `
<h2>Fleet</h2>
<div class="toolbar">${rangeControl(range, 'fleet-range')}
  <span class="muted">Window ${esc(fmt.time(summary.windowStart))} – ${esc(fmt.time(summary.windowEnd))}; charts in ${esc(tz)}</span></div>
<p class="warning" id="stale" role="alert">${
    stale
      ? `No new data for ${esc(fmt.ago(age))} (as of ${esc(fmt.time(summary.asOf))}): the pipeline may be stalled, or no device has reported.`
      : ''
  }</p>
<dl class="tiles" id="fleet-tiles">${tilesHtml([
    {
      id: 'metersActive',
      label: 'Active meters',
      text: fmt.int(summary.meters.active),
      value: summary.meters.active,
    },
    {
      id: 'vehiclesActive',
      label: 'Active vehicles',
      text: fmt.int(summary.vehicles.active),
      value: summary.vehicles.active,
    },
    {
      id: 'ac',
      label: 'AC energy (grid)',
      text: fmt.kwh(summary.meters.totalAcConsumed),
      value: summary.meters.totalAcConsumed,
    },
    {
      id: 'dc',
      label: 'DC energy (batteries)',
      text: fmt.kwh(summary.vehicles.totalDcDelivered),
      value: summary.vehicles.totalDcDelivered,
    },
    {
      id: 'efficiency',
      label: 'Efficiency (DC / AC)',
      text: fmt.pct(summary.fleetEfficiencyRatio),
      value: summary.fleetEfficiencyRatio,
    },
    {
      id: 'temp',
      label: 'Avg battery temperature',
      text: fmt.temp(summary.vehicles.avgBatteryTemp),
      value: summary.vehicles.avgBatteryTemp,
    },
    {
      id: 'below',
      label: `Vehicles below ${fmt.pct(summary.threshold)}`,
      text: fmt.int(summary.vehiclesBelowThreshold),
      value: summary.vehiclesBelowThreshold,
      note: 'last 24 closed hours',
      warn: summary.vehiclesBelowThreshold > 0,
    },
    {
      id: 'freshness',
      label: 'Data as of',
      text: fmt.ago(age),
      value: summary.asOf,
      note: fmt.time(summary.asOf),
      warn: stale,
    },
  ])}</dl>
<div class="charts">
  <figure class="chart"><figcaption id="cap-eff">Fleet efficiency per hour</figcaption><div id="chart-efficiency" aria-describedby="cap-eff"></div></figure>
  <figure class="chart"><figcaption id="cap-energy">AC and DC energy per hour (kWh)</figcaption><div id="chart-energy" aria-describedby="cap-energy"></div></figure>
</div>
<section id="alerts-section" aria-labelledby="alerts-title">
  <h3 id="alerts-title">Efficiency alerts</h3>
  <p class="muted" id="alerts-summary"></p>
  <div id="alerts"></div>
</section>`
  const x = series.points.map((p) => Date.parse(p.start) / 1000)
  renderChart(main.querySelector('#chart-efficiency')!, {
    title: 'Fleet efficiency per hour',
    x,
    axes: { ratio: 'DC / AC' },
    lines: [{ label: 'Efficiency', color: '#15803d', values: series.points.map((p) => p.efficiencyRatio) }],
  })
  renderChart(main.querySelector('#chart-energy')!, {
    title: 'AC and DC energy per hour',
    x,
    axes: { kwh: 'kWh' },
    lines: acDcLines(series.points, 'DC (batteries)'),
  })
  renderAlerts(main.querySelector<HTMLElement>('#alerts-section')!)
}

/**
 * The alerts table of `section`. The page is built off-screen and its nodes then moved into place, so
 * the handlers below work on `section` itself, never on a lookup from the page root.
 */
function renderAlerts(section: HTMLElement): void {
  const alerts = lastAlerts
  const box = section.querySelector<HTMLElement>('#alerts')
  if (!alerts || !box) return
  const summary = section.querySelector('#alerts-summary')!
  summary.textContent = `${fmt.int(alerts.total)} vehicles below ${fmt.pct(alerts.threshold)} efficiency over ${fmt.time(alerts.windowStart)} – ${fmt.time(alerts.windowEnd)}${alerts.total > alerts.items.length ? ` (the worst ${alerts.items.length} listed)` : ''}.`
  if (alerts.items.length === 0) {
    box.innerHTML = '<p>No vehicle is below the threshold.</p>'
    return
  }
  const { key, asc } = alertsState.sort
  const rows = [...alerts.items].sort((a, b) => {
    const va = a[key]
    const vb = b[key]
    const c = typeof va === 'string' ? va.localeCompare(vb as string) : va - (vb as number)
    return (asc ? c : -c) || a.vehicleId.localeCompare(b.vehicleId)
  })
  const pages = Math.max(1, Math.ceil(rows.length / PAGE))
  alertsState.page = Math.min(alertsState.page, pages - 1)
  const pageRows = rows.slice(alertsState.page * PAGE, (alertsState.page + 1) * PAGE)
  const th = (k: AlertsState['sort']['key'], label: string, num = false) => {
    const sorted = key === k ? (asc ? 'ascending' : 'descending') : 'none'
    return `<th scope="col"${num ? ' class="num"' : ''} aria-sort="${sorted}"><button type="button" data-sort="${k}">${label}${key === k ? (asc ? ' ▲' : ' ▼') : ''}</button></th>`
  }
  box.innerHTML = `<table aria-labelledby="alerts-title">
<thead><tr>${th('vehicleId', 'Vehicle')}${th('efficiencyRatio', 'Efficiency', true)}${th('totalDcDelivered', 'DC (kWh)', true)}${th('totalAcConsumed', 'AC (kWh)', true)}</tr></thead>
<tbody>${pageRows
    .map(
      (a) => `<tr data-vehicle="${esc(a.vehicleId)}">
  <td><a href="#/vehicles/${encodeURIComponent(a.vehicleId)}">${esc(a.vehicleId)}</a></td>
  <td class="num">${esc(fmt.pct(a.efficiencyRatio))}</td>
  <td class="num">${esc(a.totalDcDelivered.toFixed(2))}</td>
  <td class="num">${esc(a.totalAcConsumed.toFixed(2))}</td></tr>`,
    )
    .join('')}</tbody></table>
<nav class="pager" aria-label="Alert pages">
  <button type="button" data-page="prev"${alertsState.page === 0 ? ' disabled' : ''}>Previous</button>
  <span id="alerts-page">Page ${alertsState.page + 1} of ${pages}</span>
  <button type="button" data-page="next"${alertsState.page >= pages - 1 ? ' disabled' : ''}>Next</button>
</nav>`
  box.querySelectorAll<HTMLButtonElement>('button[data-sort]').forEach((b) =>
    b.addEventListener('click', () => {
      const k = b.dataset.sort as AlertsState['sort']['key']
      alertsState.sort = { key: k, asc: key === k ? !asc : true }
      alertsState.page = 0
      renderAlerts(section)
      section.querySelector<HTMLButtonElement>(`button[data-sort="${k}"]`)?.focus()
    }),
  )
  box.querySelectorAll<HTMLButtonElement>('button[data-page]').forEach((b) =>
    b.addEventListener('click', () => {
      alertsState.page += b.dataset.page === 'next' ? 1 : -1
      renderAlerts(section)
      const again = section.querySelector<HTMLButtonElement>(`button[data-page="${b.dataset.page}"]`)
      // A button that became disabled (last page) cannot keep focus: move it to the other one.
      ;(again && !again.disabled
        ? again
        : section.querySelector<HTMLButtonElement>('button[data-page]:not([disabled])')
      )?.focus()
    }),
  )
  box.querySelectorAll<HTMLTableRowElement>('tbody tr').forEach((tr) =>
    tr.addEventListener('click', (e) => {
      if ((e.target as HTMLElement).closest('a')) return // the link navigates by itself
      location.hash = `#/vehicles/${encodeURIComponent(tr.dataset.vehicle!)}`
    }),
  )
}
