// The vehicle page: live state, performance over the range, AC vs DC, efficiency, SoC and battery
// temperature per hour.
import { api, ApiError, type Performance, type VehicleLive, type VehicleSeries } from './api.js'
import { acDcLines, renderChart } from './charts.js'
import { rangeControl, windowOf, type Range } from './fleet.js'
import { browserTimeZone, esc, fmt } from './format.js'
import { tilesHtml } from './tiles.js'

export async function renderVehicle(main: HTMLElement, vehicleId: string, range: Range): Promise<void> {
  const id = encodeURIComponent(vehicleId)
  let live: VehicleLive
  try {
    live = await api<VehicleLive>(`/v1/vehicles/${id}/live`)
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      main.innerHTML = `<p><a href="#/">← Fleet</a></p><h2>Vehicle ${esc(vehicleId)}</h2>
<p class="error" role="alert">Vehicle ${esc(vehicleId)} has no stored readings.</p>`
      return
    }
    throw err
  }
  // The window ends at the server's now (the default window's end), like the fleet page.
  const latest = await api<Performance>(`/v1/analytics/performance/${id}`)
  const w = windowOf(latest.windowEnd, range)
  const tz = browserTimeZone()
  const [perf, series] = await Promise.all([
    range === '24h' ? Promise.resolve(latest) : api<Performance>(`/v1/analytics/performance/${id}`, w),
    api<VehicleSeries>(`/v1/analytics/vehicles/${id}/series`, { ...w, bucket: 'hour', tz }),
  ])
  main.innerHTML = `
<p><a href="#/">← Fleet</a></p>
<h2>Vehicle <span id="vehicle-id">${esc(vehicleId)}</span></h2>
<div class="toolbar">${rangeControl(range, 'vehicle-range')}
  <span class="muted">Meters counted: ${esc(perf.meterIds.join(', ') || 'none')}; charts in ${esc(tz)}</span></div>
<h3>Live state</h3>
<dl class="tiles" id="live-tiles">${tilesHtml([
    { id: 'soc', label: 'State of charge', text: fmt.soc(live.soc), value: live.soc },
    {
      id: 'batteryTemp',
      label: 'Battery temperature',
      text: fmt.temp(live.batteryTemp),
      value: live.batteryTemp,
    },
    {
      id: 'kwhDeliveredDc',
      label: 'DC in last interval',
      text: fmt.kwh(live.kwhDeliveredDc),
      value: live.kwhDeliveredDc,
    },
    {
      id: 'timestamp',
      label: 'Last reading',
      text: fmt.ago(Date.now() - Date.parse(live.timestamp)),
      note: fmt.time(live.timestamp),
      value: live.timestamp,
    },
  ])}</dl>
<h3>Over the ${range === '24h' ? 'last 24 hours' : 'last 7 days'}</h3>
<dl class="tiles" id="performance-tiles">${tilesHtml([
    { id: 'ac', label: 'AC energy (grid)', text: fmt.kwh(perf.totalAcConsumed), value: perf.totalAcConsumed },
    {
      id: 'dc',
      label: 'DC energy (battery)',
      text: fmt.kwh(perf.totalDcDelivered),
      value: perf.totalDcDelivered,
    },
    {
      id: 'efficiency',
      label: 'Efficiency (DC / AC)',
      text: fmt.pct(perf.efficiencyRatio),
      value: perf.efficiencyRatio,
    },
    {
      id: 'temp',
      label: 'Avg battery temperature',
      text: fmt.temp(perf.avgBatteryTemp),
      value: perf.avgBatteryTemp,
    },
  ])}</dl>
<div class="charts">
  <figure class="chart"><figcaption id="cap-acdc">AC vs DC per hour (kWh)</figcaption><div id="chart-acdc" aria-describedby="cap-acdc"></div></figure>
  <figure class="chart"><figcaption id="cap-veff">Efficiency per hour</figcaption><div id="chart-vehicle-efficiency" aria-describedby="cap-veff"></div></figure>
  <figure class="chart"><figcaption id="cap-soc">State of charge and battery temperature</figcaption><div id="chart-soc-temp" aria-describedby="cap-soc"></div></figure>
</div>`
  const x = series.points.map((p) => Date.parse(p.start) / 1000)
  renderChart(main.querySelector('#chart-acdc')!, {
    title: 'AC vs DC per hour',
    x,
    axes: { kwh: 'kWh' },
    lines: acDcLines(series.points, 'DC (battery)'),
  })
  renderChart(main.querySelector('#chart-vehicle-efficiency')!, {
    title: 'Efficiency per hour',
    x,
    axes: { ratio: 'DC / AC' },
    lines: [{ label: 'Efficiency', color: '#15803d', values: series.points.map((p) => p.efficiencyRatio) }],
  })
  renderChart(main.querySelector('#chart-soc-temp')!, {
    title: 'State of charge and battery temperature',
    x,
    axes: { soc: 'SoC %', temp: '°C' },
    lines: [
      {
        label: 'SoC (last in hour)',
        color: '#6d28d9',
        values: series.points.map((p) => p.soc.last),
        scale: 'soc',
      },
      {
        label: 'Battery temp avg',
        color: '#b91c1c',
        values: series.points.map((p) => p.batteryTemp.avg),
        scale: 'temp',
      },
      {
        label: 'Battery temp max',
        color: '#b91c1c',
        values: series.points.map((p) => p.batteryTemp.max),
        scale: 'temp',
        dash: [6, 4],
      },
    ],
  })
}
