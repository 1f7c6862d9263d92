/** Latency samples in milliseconds; percentiles by nearest rank. */
export class Samples {
  private readonly values: number[] = []

  add(ms: number): void {
    this.values.push(ms)
  }

  get count(): number {
    return this.values.length
  }

  summary(): LatencySummary {
    const sorted = [...this.values].sort((a, b) => a - b)
    const at = (q: number) =>
      sorted.length === 0
        ? Number.NaN
        : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
    const mean = sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1)
    return {
      count: sorted.length,
      p50: round(at(0.5)),
      p90: round(at(0.9)),
      p99: round(at(0.99)),
      max: round(sorted[sorted.length - 1] ?? Number.NaN),
      mean: round(mean),
    }
  }
}

export interface LatencySummary {
  count: number
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
}

export const round = (x: number, digits = 2): number => {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
