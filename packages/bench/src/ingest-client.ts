import type { MeterReading, VehicleReading } from '@energy-ingest/contracts'
import { HttpClient } from './http.js'
import { Samples } from './stats.js'

export type AnyReading = MeterReading | VehicleReading

/** Posts readings to the gateway (single or batch endpoint) and counts what came back. */
export class IngestClient {
  readonly http: HttpClient
  readonly latency = new Samples()
  sent = 0
  accepted = 0
  rejected = 0
  unavailable = 0
  errors = 0
  requests = 0
  lastError?: string

  constructor(gatewayUrl: string, token: string, maxSockets = 64) {
    this.http = new HttpClient(gatewayUrl, { authorization: `Bearer ${token}` }, maxSockets)
  }

  async postSingle(reading: AnyReading): Promise<boolean> {
    return this.post('/v1/ingest', JSON.stringify(reading), 1)
  }

  async postBatch(readings: AnyReading[]): Promise<boolean> {
    return this.post('/v1/ingest/batch', JSON.stringify(readings), readings.length)
  }

  private async post(path: string, body: string, n: number): Promise<boolean> {
    this.sent += n
    this.requests++
    try {
      const res = await this.http.post(path, body)
      this.latency.add(res.ms)
      if (res.status === 202) {
        if (n === 1 && path === '/v1/ingest') {
          this.accepted += 1
        } else {
          const answer = JSON.parse(res.body) as { accepted: number; rejected: unknown[] }
          this.accepted += answer.accepted
          this.rejected += answer.rejected.length
        }
        return true
      }
      if (res.status === 503 || res.status === 429) this.unavailable += n
      else this.rejected += n
      this.lastError = `${res.status} ${res.body.slice(0, 200)}`
      return false
    } catch (err) {
      this.errors += n
      this.lastError = (err as Error).message
      return false
    }
  }

  close(): void {
    this.http.close()
  }
}
