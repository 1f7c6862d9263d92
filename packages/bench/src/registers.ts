// Register meters for the simulator and the e2e bench. A real meter reports a cumulative energy
// register (OCPP Energy.Active.Import.Register), not the energy since its previous reading: this turns
// interval readings into such registers, with occasional resets (the meter restarts from 0) and late
// readings (held back and sent two rounds later, after newer readings of the same meter), and packs
// register readings into OCPP 1.6 MeterValues.req / 2.0.1 MeterValuesRequest payloads.
import type { MeterReading } from '@energy-ingest/contracts'
import { prng } from '@energy-ingest/localstack'

export type OcppVersion = '1.6' | '2.0.1'
export const OCPP_VERSIONS: readonly OcppVersion[] = ['1.6', '2.0.1']

/** How the simulator's meters report: interval energy, a register, or OCPP MeterValues. */
export type MeterMode = 'interval' | 'register' | 'ocpp-1.6' | 'ocpp-2.0.1'
export const METER_MODES: readonly MeterMode[] = ['interval', 'register', 'ocpp-1.6', 'ocpp-2.0.1']

export interface RegisterOptions {
  /** Probability per reading that the meter restarts from 0 (replaced, power loss). */
  resetProbability: number
  /** Probability per reading that it is held back and sent two rounds later. */
  lateProbability: number
  seed?: number
}

/** Register units: 0.0001 kWh (the fleet's interval energies have 4 decimals), exact as integers. */
const UNITS_PER_KWH = 10_000

export interface RegisterStats {
  readings: number
  resets: number
  late: number
}

/** Per-meter cumulative registers fed with interval readings. */
export class RegisterMeters {
  private readonly units = new Map<string, number>()
  private readonly held: { releaseRound: number; reading: MeterReading }[] = []
  private readonly rand: () => number
  private round = 0
  readonly stats: RegisterStats = { readings: 0, resets: 0, late: 0 }
  private energyUnits = 0

  constructor(private readonly opts: RegisterOptions) {
    this.rand = prng(opts.seed ?? 7)
  }

  /**
   * One round of interval readings (at most one per meter) in; the register readings to send now out:
   * this round's (minus those held back) and the held-back ones whose time has come.
   */
  step(intervals: readonly MeterReading[]): MeterReading[] {
    const out: MeterReading[] = []
    for (const r of intervals) {
      const energy = Math.round((r.kwhConsumedAc ?? 0) * UNITS_PER_KWH)
      let units = this.units.get(r.meterId)
      if (units === undefined) {
        // a meter's first reading has no energy: start its register somewhere in its life
        units = Math.floor(this.rand() * 50_000) * UNITS_PER_KWH
      } else if (this.rand() < this.opts.resetProbability) {
        units = energy // restarted from 0; a reset reading's energy is its register value
        this.stats.resets++
        this.energyUnits += energy
      } else {
        units += energy
        this.energyUnits += energy
      }
      this.units.set(r.meterId, units)
      const reading: MeterReading = {
        meterId: r.meterId,
        energyRegisterKwh: units / UNITS_PER_KWH,
        voltage: r.voltage,
        timestamp: r.timestamp,
      }
      this.stats.readings++
      if (this.rand() < this.opts.lateProbability) {
        this.held.push({ releaseRound: this.round + 2, reading })
        this.stats.late++
      } else {
        out.push(reading)
      }
    }
    this.round++
    return [...out, ...this.release(this.round)]
  }

  /** Every reading still held back (at the end of a run). */
  flush(): MeterReading[] {
    return this.release(Number.POSITIVE_INFINITY)
  }

  /** Interval energy the registers carry, kWh: what the derivation totals once everything is stored. */
  get energyKwh(): number {
    return this.energyUnits / UNITS_PER_KWH
  }

  private release(upToRound: number): MeterReading[] {
    const due = this.held.filter((h) => h.releaseRound <= upToRound)
    if (due.length === 0) return []
    const keep = this.held.filter((h) => h.releaseRound > upToRound)
    this.held.splice(0, this.held.length, ...keep)
    return due.map((h) => h.reading)
  }
}

/** The OCPP meter id of a charge point's connector / EVSE 1 (the gateway's `<chargePointId>:<n>`). */
export const ocppMeterId = (chargePointId: string) => `${chargePointId}:1`

const sampled16 = (r: MeterReading) => ({
  timestamp: r.timestamp,
  sampledValue: [
    {
      // Wh, as most 1.6 charge points send it; 0.0001 kWh is 0.1 Wh
      value: (Math.round((r.energyRegisterKwh ?? 0) * UNITS_PER_KWH) / 10).toFixed(1),
      context: 'Sample.Periodic',
      measurand: 'Energy.Active.Import.Register',
      unit: 'Wh',
    },
    { value: String(r.voltage), context: 'Sample.Periodic', measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
  ],
})

const sampled201 = (r: MeterReading) => ({
  timestamp: r.timestamp,
  sampledValue: [
    {
      value: r.energyRegisterKwh ?? 0,
      context: 'Sample.Periodic',
      measurand: 'Energy.Active.Import.Register',
      unitOfMeasure: { unit: 'kWh' },
    },
    { value: r.voltage, context: 'Sample.Periodic', measurand: 'Voltage', unitOfMeasure: { unit: 'V' } },
  ],
})

/**
 * The MeterValues payload of one charge point (connector / EVSE 1) for its register readings (one
 * meterValue each), for `POST /v1/ingest/ocpp/:chargePointId` with header `ocpp-version`.
 */
export function meterValuesPayload(version: OcppVersion, readings: readonly MeterReading[]): object {
  return version === '1.6'
    ? { connectorId: 1, meterValue: readings.map(sampled16) }
    : { evseId: 1, meterValue: readings.map(sampled201) }
}

/** Register readings grouped by charge point (the meter id without its `:<connector>` suffix). */
export function byChargePoint(readings: readonly MeterReading[]): Map<string, MeterReading[]> {
  const out = new Map<string, MeterReading[]>()
  for (const r of readings) {
    const cp = r.meterId.replace(/:1$/, '')
    const list = out.get(cp)
    if (list) list.push(r)
    else out.set(cp, [r])
  }
  return out
}
