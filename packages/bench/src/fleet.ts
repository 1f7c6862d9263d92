// A simulated fleet: each vehicle charges from one meter. While a vehicle charges, its meter measures
// the AC energy drawn and the vehicle the DC energy stored, DC = AC × the charger's efficiency
// (85–95 %, a few faulty ones lower), the state of charge rises with the DC energy and the battery
// warms up; between sessions the vehicle drives (SoC falls, battery cools) and the meter draws standby.
import type { MeterReading, VehicleReading } from '@energy-ingest/contracts'
import { prng } from '@energy-ingest/localstack'

export interface FleetOptions {
  vehicles: number
  meters: number
  /** Fraction of chargers with a bad efficiency (70–82 %), so the efficiency alerts have something to find. */
  faultyFraction?: number
  seed?: number
}

interface VehicleState {
  id: string
  meterId: string
  capacityKwh: number
  chargerKw: number
  efficiency: number
  soc: number
  targetSoc: number
  tempC: number
  charging: boolean
  /** Sim-seconds until an idle vehicle plugs in again. */
  idleS: number
}

export { prng }

const r1 = (x: number) => Math.round(x * 10) / 10
const r4 = (x: number) => Math.round(x * 10_000) / 10_000
export const vehicleId = (i: number) => `V-${String(i + 1).padStart(6, '0')}`
export const meterId = (i: number) => `M-${String(i + 1).padStart(6, '0')}`

export class Fleet {
  readonly vehicles: VehicleState[] = []
  readonly meterIds: string[] = []
  private readonly rand: () => number

  constructor(options: FleetOptions) {
    this.rand = prng(options.seed ?? 42)
    const faulty = options.faultyFraction ?? 0.03
    for (let i = 0; i < options.meters; i++) this.meterIds.push(meterId(i))
    for (let i = 0; i < options.vehicles; i++) {
      const bad = this.rand() < faulty
      this.vehicles.push({
        id: vehicleId(i),
        meterId: this.meterIds[i % Math.max(1, options.meters)] ?? meterId(i),
        capacityKwh: [40, 58, 64, 77, 100][Math.floor(this.rand() * 5)]!,
        chargerKw: [7.4, 11, 22][Math.floor(this.rand() * 3)]!,
        efficiency: bad ? 0.7 + this.rand() * 0.12 : 0.85 + this.rand() * 0.1,
        soc: 10 + this.rand() * 60,
        targetSoc: 80 + this.rand() * 20,
        tempC: 15 + this.rand() * 10,
        charging: this.rand() < 0.5,
        idleS: this.rand() * 4 * 3600,
      })
    }
  }

  /** One assignment per vehicle, open-ended, valid from `validFrom`. */
  assignments(validFrom: Date): { vehicleId: string; meterId: string; validFrom: string }[] {
    const from = validFrom.toISOString()
    return this.vehicles.map((v) => ({ vehicleId: v.id, meterId: v.meterId, validFrom: from }))
  }

  /**
   * Advances every device by `dtS` sim-seconds ending at `at` and returns one reading per device.
   * Meters without a vehicle report standby draw.
   */
  step(at: Date, dtS: number): { meters: MeterReading[]; vehicles: VehicleReading[] } {
    const timestamp = at.toISOString()
    const acByMeter = new Map<string, number>()
    const vehicles: VehicleReading[] = []
    for (const v of this.vehicles) {
      let dc = 0
      if (v.charging) {
        // Taper above 80 % SoC, as real chargers do.
        const taper = v.soc > 80 ? Math.max(0.2, (100 - v.soc) / 20) : 1
        const ac = ((v.chargerKw * taper * dtS) / 3600) * (0.97 + this.rand() * 0.06)
        dc = ac * v.efficiency * (0.99 + this.rand() * 0.02)
        acByMeter.set(v.meterId, (acByMeter.get(v.meterId) ?? 0) + ac)
        v.soc = Math.min(100, v.soc + (dc / v.capacityKwh) * 100)
        v.tempC += (38 - v.tempC) * (1 - Math.exp(-dtS / 3600)) + (this.rand() - 0.5) * 0.2
        if (v.soc >= v.targetSoc) {
          v.charging = false
          v.idleS = 1800 + this.rand() * 6 * 3600
        }
      } else {
        v.idleS -= dtS
        v.soc = Math.max(5, v.soc - (this.rand() * 2 * dtS) / 600) // driving part of the time
        v.tempC += (20 - v.tempC) * (1 - Math.exp(-dtS / 5400)) + (this.rand() - 0.5) * 0.2
        if (v.idleS <= 0) {
          v.charging = true
          v.targetSoc = 80 + this.rand() * 20
        }
      }
      vehicles.push({
        vehicleId: v.id,
        soc: r1(v.soc),
        kwhDeliveredDc: r4(dc),
        batteryTemp: r1(v.tempC),
        timestamp,
      })
    }
    const meters: MeterReading[] = this.meterIds.map((id) => ({
      meterId: id,
      kwhConsumedAc: r4((acByMeter.get(id) ?? 0) + 0.0005 * (dtS / 60)),
      voltage: r1(230 + (this.rand() - 0.5) * 8),
      timestamp,
    }))
    return { meters, vehicles }
  }
}
