/** `--name value`, `--name=value` and bare `--flag` (true); positional words are kept in order. */
export class Args {
  readonly positional: string[] = []
  private readonly values = new Map<string, string>()
  private readonly used = new Set<string>()

  constructor(argv: string[]) {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!
      if (!arg.startsWith('--')) {
        this.positional.push(arg)
        continue
      }
      const eq = arg.indexOf('=')
      if (eq > 0) {
        this.values.set(arg.slice(2, eq), arg.slice(eq + 1))
      } else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) {
        this.values.set(arg.slice(2), argv[++i]!)
      } else {
        this.values.set(arg.slice(2), 'true')
      }
    }
  }

  str(name: string, fallback: string): string
  str(name: string): string | undefined
  str(name: string, fallback?: string): string | undefined {
    this.used.add(name)
    return this.values.get(name) ?? fallback
  }

  /** A count: accepts 10000, 10_000, 10k, 2.5M. */
  num(name: string, fallback: number, min = 0): number {
    const raw = this.str(name)
    if (raw === undefined) return fallback
    const value = parseCount(raw)
    if (!Number.isFinite(value) || value < min)
      throw new Error(`--${name}: expected a number ≥ ${min}, got "${raw}"`)
    return value
  }

  bool(name: string): boolean {
    const raw = this.str(name)
    return raw !== undefined && raw !== 'false' && raw !== '0'
  }

  /** Comma-separated list of counts, e.g. `--sizes 10M,100M`. */
  counts(name: string, fallback: number[]): number[] {
    const raw = this.str(name)
    if (raw === undefined) return fallback
    const values = raw.split(',').map(parseCount)
    if (values.some((v) => !Number.isFinite(v) || v <= 0)) throw new Error(`--${name}: bad list "${raw}"`)
    return values
  }

  /** Flags given but never read: most likely typos. */
  unknown(): string[] {
    return [...this.values.keys()].filter((k) => !this.used.has(k))
  }
}

const SUFFIX: Record<string, number> = { k: 1e3, K: 1e3, m: 1e6, M: 1e6, g: 1e9, G: 1e9 }

export function parseCount(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(raw.replaceAll('_', ''))
  if (!m) return Number.NaN
  return Math.round(Number(m[1]) * (m[2] ? SUFFIX[m[2]]! : 1))
}
