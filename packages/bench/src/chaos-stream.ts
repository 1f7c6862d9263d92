// The device fleet of the chaos bench: batches with unique (device, timestamp) keys posted to the
// gateway one at a time; a refused batch (503, 429, a dropped connection) is sent again, unchanged,
// until it is accepted, as a device would. Every accepted key is remembered with the time it was
// accepted, so the bench can say afterwards which accepted readings were stored.
import { randomBytes } from 'node:crypto'
import type { MeterReading, VehicleReading } from '@energy-ingest/contracts'
import { HttpClient } from './http.js'

export interface AcceptedKey {
  kind: 'meter' | 'vehicle'
  device: string
  tsMs: number
  acceptedAt: number
}

export class ChaosStream {
  readonly accepted: AcceptedKey[] = []
  refused = 0
  /** Device ids are unique per run, so runs against the same stack never see each other's rows. */
  readonly prefix = `CHAOS-${randomBytes(3).toString('hex')}`
  private readonly http: HttpClient
  private seq = 0
  private running: Promise<void> | undefined
  private stopping = false
  private readonly base = Date.now() - 3_600_000

  constructor(
    gatewayUrl: string,
    token: string,
    private readonly devices = 10,
    private readonly pauseMs = 20,
  ) {
    this.http = new HttpClient(gatewayUrl, { authorization: `Bearer ${token}` }, 4)
  }

  start(): void {
    this.running = this.loop()
  }

  async stop(): Promise<void> {
    this.stopping = true
    await this.running
    this.http.close()
  }

  private batch(): { body: (MeterReading | VehicleReading)[]; keys: Omit<AcceptedKey, 'acceptedAt'>[] } {
    const n = this.seq++
    const tsMs = this.base + n * 1000
    const timestamp = new Date(tsMs).toISOString()
    const body: (MeterReading | VehicleReading)[] = []
    const keys: Omit<AcceptedKey, 'acceptedAt'>[] = []
    for (let d = 0; d < this.devices; d++) {
      const meterId = `${this.prefix}-M-${d}`
      const vehicleId = `${this.prefix}-V-${d}`
      body.push({ meterId, kwhConsumedAc: ((n + d) % 97) / 100, voltage: 230, timestamp })
      body.push({
        vehicleId,
        soc: (n + d) % 100,
        kwhDeliveredDc: ((n + d) % 89) / 100,
        batteryTemp: 25,
        timestamp,
      })
      keys.push({ kind: 'meter', device: meterId, tsMs }, { kind: 'vehicle', device: vehicleId, tsMs })
    }
    return { body, keys }
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const { body, keys } = this.batch()
      const payload = JSON.stringify(body)
      for (;;) {
        const res = await this.http
          .post('/v1/ingest/batch', payload, 'application/json', 10_000)
          .catch(() => undefined)
        if (res?.status === 202) {
          const at = Date.now()
          for (const k of keys) this.accepted.push({ ...k, acceptedAt: at })
          break
        }
        if (res && res.status !== 503 && res.status !== 429)
          throw new Error(`gateway answered ${res.status}: ${res.body.slice(0, 200)}`)
        this.refused++
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      await new Promise((resolve) => setTimeout(resolve, this.pauseMs))
    }
  }
}
