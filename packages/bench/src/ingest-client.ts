import type { MeterReading, VehicleReading } from '@energy-ingest/contracts'
import { HttpClient } from './http.js'
import type { OcppVersion } from './registers.js'
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

  /** One client per OCPP version: the version is a header of every request. */
  private readonly ocpp = new Map<OcppVersion, HttpClient>()

  constructor(
    private readonly gatewayUrl: string,
    private readonly token: string,
    private readonly maxSockets = 64,
  ) {
    this.http = new HttpClient(gatewayUrl, { authorization: `Bearer ${token}` }, maxSockets)
  }

  async postSingle(reading: AnyReading): Promise<boolean> {
    return this.post('/v1/ingest', JSON.stringify(reading), 1)
  }

  async postBatch(readings: AnyReading[]): Promise<boolean> {
    return this.post('/v1/ingest/batch', JSON.stringify(readings), readings.length)
  }

  /** A MeterValues payload of one charge point carrying `n` register readings. */
  async postOcpp(version: OcppVersion, chargePointId: string, payload: object, n: number): Promise<boolean> {
    let http = this.ocpp.get(version)
    if (!http) {
      const headers = { authorization: `Bearer ${this.token}`, 'ocpp-version': version }
      http = new HttpClient(this.gatewayUrl, headers, this.maxSockets)
      this.ocpp.set(version, http)
    }
    return this.post(`/v1/ingest/ocpp/${encodeURIComponent(chargePointId)}`, JSON.stringify(payload), n, http)
  }

  private async post(path: string, body: string, n: number, http = this.http): Promise<boolean> {
    this.sent += n
    this.requests++
    try {
      const res = await http.post(path, body)
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
      this.lastError = `${res.status} ${res.body.slice(0, 200)}`
      if (res.status === 503 || res.status === 429) {
        this.unavailable += n
        // Back off as a well-behaved client would (Retry-After, capped so a bench run keeps moving);
        // the slot stays taken meanwhile, which slows the sender down. Refused readings are not resent.
        const retryAfterS = Number(res.headers['retry-after'] ?? 1)
        await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(50, retryAfterS * 1000))))
      } else {
        this.rejected += n
      }
      return false
    } catch (err) {
      this.errors += n
      this.lastError = (err as Error).message
      return false
    }
  }

  close(): void {
    this.http.close()
    for (const http of this.ocpp.values()) http.close()
  }
}
