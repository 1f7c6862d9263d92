// Load of the e2e bench: readings stamped with the wall clock, half meters (interval or register) and
// half vehicles.
import type { AnyReading } from './ingest-client.js'

/** The meter path a phase loads: interval energies, or cumulative registers the writer derives. */
export type MeterPath = 'interval' | 'register'
export const PATHS: readonly MeterPath[] = ['interval', 'register']

/**
 * Readings stamped with the wall clock, devices in turn, each device's timestamps strictly rising.
 * Register meters add 0.0001–0.0005 kWh per reading to their register (a few kW at the rates reached
 * here, far below the suspect ceiling), so the writer derives plain increases.
 */
export class LiveGenerator {
  private next = 0
  private readonly lastMs: Float64Array
  private readonly registerUnits: Float64Array

  constructor(
    private readonly devices: number,
    private readonly path: MeterPath,
  ) {
    this.lastMs = new Float64Array(devices)
    this.registerUnits = new Float64Array(devices).fill(10_000_000)
  }

  batch(size: number): AnyReading[] {
    const out: AnyReading[] = []
    const now = Date.now()
    const tag = this.path === 'register' ? 'R' : 'M'
    for (let i = 0; i < size; i++) {
      const d = this.next++ % this.devices
      const ms = Math.max(now, this.lastMs[d]! + 1)
      this.lastMs[d] = ms
      const timestamp = new Date(ms).toISOString()
      const n = d >> 1
      const x = ((ms / 1000 + d) % 100) / 100
      if (d % 2 === 1) {
        out.push({
          vehicleId: `E2E-${tag}V-${n}`,
          soc: Math.round(200 + x * 600) / 10,
          kwhDeliveredDc: Math.round(x * 1800) / 10_000,
          batteryTemp: 27.5,
          timestamp,
        })
      } else if (this.path === 'register') {
        this.registerUnits[d] = this.registerUnits[d]! + 1 + (this.next % 5)
        out.push({
          meterId: `E2E-R-${n}`,
          energyRegisterKwh: this.registerUnits[d]! / 10_000,
          voltage: 230.1,
          timestamp,
        })
      } else {
        out.push({
          meterId: `E2E-M-${n}`,
          kwhConsumedAc: Math.round(x * 2000) / 10_000,
          voltage: 230.1,
          timestamp,
        })
      }
    }
    return out
  }
}
