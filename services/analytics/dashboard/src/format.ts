// Number and time formatting shared by the views (one place, so the browser test can compare).

const dec = (digits: number) =>
  new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

export const fmt = {
  int: (n: number) => new Intl.NumberFormat('en-US').format(n),
  kwh: (n: number) => `${dec(2).format(n)} kWh`,
  pct: (r: number | null) => (r === null ? '–' : `${dec(1).format(r * 100)} %`),
  temp: (t: number | null) => (t === null ? '–' : `${dec(1).format(t)} °C`),
  soc: (s: number | null) => (s === null ? '–' : `${dec(1).format(s)} %`),
  time: (iso: string) =>
    new Date(iso).toLocaleString('en-GB', {
      dateStyle: 'medium',
      timeStyle: 'medium',
    }),
  ago: (ms: number) => {
    const s = Math.max(0, Math.round(ms / 1000))
    if (s < 90) return `${s} s ago`
    const m = Math.round(s / 60)
    if (m < 90) return `${m} min ago`
    const h = Math.round(m / 60)
    if (h < 48) return `${h} h ago`
    return `${Math.round(h / 24)} days ago`
  },
}

/** The browser's IANA time zone (the series' buckets follow it). */
export const browserTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'

/** Escapes text for innerHTML templates. */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
