// Charts with uPlot (bundled; no CDN). Each chart records what it drew on its container
// (data-points: x values; data-drawn: non-null values per series), which the browser test reads.
import uPlot from 'uplot'

export interface LineSpec {
  label: string
  color: string
  values: (number | null)[]
  scale?: string
  stepped?: boolean
  dash?: number[]
}

export interface ChartSpec {
  title: string
  /** Bucket starts, epoch seconds. */
  x: number[]
  lines: LineSpec[]
  /** Axis label per scale ('y' is the left axis). */
  axes: Record<string, string>
}

/** The stepped AC (grid) and DC lines that the fleet and the vehicle pages both draw per bucket. */
export function acDcLines(
  points: { totalAcConsumed: number | null; totalDcDelivered: number | null }[],
  dcLabel: string,
): LineSpec[] {
  return [
    { label: 'AC (grid)', color: '#0b57a4', values: points.map((p) => p.totalAcConsumed), stepped: true },
    { label: dcLabel, color: '#c2410c', values: points.map((p) => p.totalDcDelivered), stepped: true },
  ]
}

const charts = new WeakMap<HTMLElement, uPlot>()

export function renderChart(container: HTMLElement, spec: ChartSpec): void {
  charts.get(container)?.destroy()
  container.replaceChildren()
  // Drawn before the page is attached (no flicker on refresh): size from the main column's width, two
  // charts side by side when it is wide (as the .charts grid lays them out).
  const mainWidth = document.querySelector('#main')?.clientWidth ?? 1100
  const width = Math.max(300, Math.floor(mainWidth >= 1100 ? (mainWidth - 48) / 2 - 40 : mainWidth - 80))
  const scales = Object.keys(spec.axes)
  const opts: uPlot.Options = {
    title: undefined,
    width,
    height: 240,
    scales: Object.fromEntries([['x', { time: true }], ...scales.map((s) => [s, {}])]),
    axes: [
      { stroke: '#4a5361', grid: { stroke: '#e3e8ee' } },
      ...scales.map((s, i) => ({
        scale: s,
        label: spec.axes[s],
        side: i === 0 ? 3 : 1,
        stroke: '#4a5361',
        grid: { show: i === 0, stroke: '#e3e8ee' },
      })),
    ],
    series: [
      {},
      ...spec.lines.map((l) => ({
        label: l.label,
        stroke: l.color,
        width: 2,
        scale: l.scale ?? scales[0],
        dash: l.dash,
        spanGaps: false,
        points: { show: spec.x.length <= 48 },
        ...(l.stepped ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
      })),
    ],
    hooks: {
      draw: [
        (u: uPlot) => {
          const drawn = u.data
            .slice(1)
            .map(
              (s) =>
                Array.from(s as ArrayLike<number | null | undefined>).filter(
                  (v) => v !== null && v !== undefined,
                ).length,
            )
          container.dataset.points = String(u.data[0].length)
          container.dataset.drawn = drawn.join(',')
        },
      ],
    },
  }
  const data: uPlot.AlignedData = [spec.x, ...spec.lines.map((l) => l.values)]
  const plot = new uPlot(opts, data, container)
  plot.root.querySelector('canvas')?.setAttribute('role', 'img')
  plot.root
    .querySelector('canvas')
    ?.setAttribute(
      'aria-label',
      `${spec.title}: ${spec.lines.map((l) => l.label).join(', ')}, ${spec.x.length} points`,
    )
  charts.set(container, plot)
}
