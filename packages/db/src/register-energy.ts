// Interval energy derived from a meter's cumulative energy register (OCPP Energy.Active.Import.Register).
//
// The energy of a register reading is its increase over the meter's previous register reading IN TIME
// ORDER. Every rule below depends only on the readings at positions j-2 .. j+1 of the time-ordered
// register readings of one meter, so the derived value of a reading is a pure function of the final
// sequence: whatever the arrival order, and however often a reading is delivered, the stored values end
// up the same once every reading's neighbourhood has been recomputed (see recomputeWindow below).
//
// Rules, for the register readings r_0 … r_n of one meter sorted by time (interval readings of the same
// meter take no part: they count as they are, and register differences are taken only between register
// readings):
//
// - first:       r_0 has no energy (nothing to diff against). Flag `first`.
// - placeholder: r_j (0 < j < n) is lower than r_{j-1} and the next reading r_{j+1} is back to at least
//                r_{j-1}. The drop (typically a 0 sent while the meter restarted) is skipped: r_j has no
//                energy and is flagged `placeholder`, and r_{j+1} is diffed against r_{j-1}
//                (910 → 0 → 910.08 is 0.08 kWh, not 910.08). Two placeholders are never adjacent (the
//                conditions contradict each other), which keeps the rule local.
// - reset:       otherwise a decrease is a reset (the meter restarted from 0 or was replaced): the
//                reading's energy is its register value (Prometheus increase()). Flag `reset`. The last
//                reading of a meter cannot be a placeholder yet; when a later reading undoes its drop,
//                it becomes one and its energy is corrected.
// - suspect:     an energy implying more than the power ceiling (default 400 kW) over the time since the
//                reading it was diffed against is flagged `suspect` and counts 0 (excluded from totals,
//                never silently counted; the register value stays stored, so it can be reviewed).
//
// Arithmetic is exact: register values are decimal strings, differences are computed on scaled
// BigInts.
import { parseScaledDecimal, type ScaledDecimal } from './decimal-sum.js'

export type EnergyFlag = 'first' | 'reset' | 'placeholder' | 'suspect'

/** Flags in a fixed order (the order they are stored in). */
export const ENERGY_FLAGS: readonly EnergyFlag[] = ['first', 'reset', 'placeholder', 'suspect']

/** Default power ceiling of the suspect rule, kW. */
export const DEFAULT_MAX_POWER_KW = 400

export interface RegisterPoint {
  /** Microseconds since the epoch (unique per meter). */
  tsMicros: number
  /** The register value, kWh, as an exact decimal string (or a finite number). */
  registerKwh: string | number
}

export interface DerivedEnergy {
  /** Derived interval energy, kWh, exact decimal text. */
  kwh: string
  /** Flags in ENERGY_FLAGS order; empty for a plain increase. */
  flags: EnergyFlag[]
}

export interface DeriveOptions {
  /** Power ceiling of the suspect rule, kW. Default DEFAULT_MAX_POWER_KW. */
  maxPowerKw?: number | string
}

type Scaled = ScaledDecimal

function parseDecimal(value: string | number): Scaled {
  const text = typeof value === 'number' ? String(value) : value
  if (!Number.isFinite(Number(text))) throw new RangeError(`not a decimal: ${JSON.stringify(text)}`)
  return parseScaledDecimal(text)
}

const pow10 = (n: number) => 10n ** BigInt(n)

function align(a: Scaled, b: Scaled): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale)
  return [a.units * pow10(scale - a.scale), b.units * pow10(scale - b.scale), scale]
}

/** Exact comparison of two decimals: -1, 0 or 1. */
export function compareDecimal(a: string | number, b: string | number): number {
  const [x, y] = align(parseDecimal(a), parseDecimal(b))
  return x < y ? -1 : x > y ? 1 : 0
}

function toText(units: bigint, scale: number): string {
  const negative = units < 0n
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0')
  const whole = digits.slice(0, digits.length - scale)
  const fraction = (scale > 0 ? digits.slice(digits.length - scale) : '').replace(/0+$/, '')
  const text = fraction.length > 0 ? `${whole}.${fraction}` : whole
  return negative ? `-${text}` : text
}

/** Exact a - b as plain decimal text without trailing zeros. */
export function subtractDecimal(a: string | number, b: string | number): string {
  const [x, y, scale] = align(parseDecimal(a), parseDecimal(b))
  return toText(x - y, scale)
}

/** Plain decimal text of a value (no exponent, no trailing zeros). */
export function normalizeDecimal(a: string | number): string {
  const p = parseDecimal(a)
  return toText(p.units, p.scale)
}

const HOUR_MICROS = 3_600_000_000n

/** energyKwh > maxPowerKw × dt, exactly (dt in microseconds). */
function exceedsPower(energyKwh: string, dtMicros: number, maxPowerKw: string | number): boolean {
  const [e, p] = align(parseDecimal(energyKwh), parseDecimal(maxPowerKw))
  // e / 10^s > p / 10^s × dt / 3600e6  ⇔  e × 3600e6 > p × dt
  return e * HOUR_MICROS > p * BigInt(Math.max(0, Math.round(dtMicros)))
}

function isPlaceholder(points: readonly RegisterPoint[], j: number): boolean {
  if (j < 1 || j + 1 >= points.length) return false
  const prev = points[j - 1]!.registerKwh
  return (
    compareDecimal(points[j]!.registerKwh, prev) < 0 && compareDecimal(points[j + 1]!.registerKwh, prev) >= 0
  )
}

/**
 * The derived energy of the reading at index j of one meter's register readings, sorted by time
 * (strictly increasing tsMicros). Reads only indices j-2 … j+1.
 */
export function deriveRegisterEnergyAt(
  points: readonly RegisterPoint[],
  j: number,
  opts: DeriveOptions = {},
): DerivedEnergy {
  if (j < 0 || j >= points.length) throw new RangeError(`index ${j} outside 0..${points.length - 1}`)
  if (j === 0) return { kwh: '0', flags: ['first'] }
  if (isPlaceholder(points, j)) return { kwh: '0', flags: ['placeholder'] }
  const b = j >= 2 && isPlaceholder(points, j - 1) ? j - 2 : j - 1
  const cur = points[j]!
  const base = points[b]!
  const flags: EnergyFlag[] = []
  let kwh: string
  if (compareDecimal(cur.registerKwh, base.registerKwh) >= 0) {
    kwh = subtractDecimal(cur.registerKwh, base.registerKwh)
  } else {
    kwh = normalizeDecimal(cur.registerKwh)
    flags.push('reset')
  }
  if (exceedsPower(kwh, cur.tsMicros - base.tsMicros, opts.maxPowerKw ?? DEFAULT_MAX_POWER_KW)) {
    flags.push('suspect')
    kwh = '0'
  }
  return { kwh, flags }
}

/** The derived energy of every reading of one meter (sorted by time). */
export function deriveRegisterEnergy(
  points: readonly RegisterPoint[],
  opts: DeriveOptions = {},
): DerivedEnergy[] {
  return points.map((_, j) => deriveRegisterEnergyAt(points, j, opts))
}

/**
 * Readings before and after an inserted reading that a recomputation must read (CONTEXT_BEFORE before
 * it, CONTEXT_AFTER after it), and the offsets (relative to the inserted reading) whose derived value
 * the insertion can change: the reading before it (it may become a placeholder), itself, and the two
 * after it (the next one is diffed against it; the one after that may be diffed across a placeholder).
 */
export const CONTEXT_BEFORE = 3
export const CONTEXT_AFTER = 3
export const AFFECTED_OFFSETS = [-1, 0, 1, 2] as const

/** Sorted (by code unit) flags as a PostgreSQL text[] literal, or null when there is none. */
export function flagsLiteral(flags: readonly EnergyFlag[]): string | null {
  return flags.length === 0 ? null : `{${flags.join(',')}}`
}
