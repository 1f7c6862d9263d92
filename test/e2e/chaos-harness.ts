// The parts the fault suites share: the writer as a supervised process, a device fleet streaming
// through the gateway (503s retried), readiness of every service and the exact check afterwards.
import { join } from 'node:path'
import type * as analytics from '@energy-ingest/analytics'
import type { MeterReading, VehicleReading } from '@energy-ingest/contracts'
import { closeHours } from '@energy-ingest/db'
import type * as gateway from '@energy-ingest/gateway'
import {
  assertStoredExactly,
  eventually,
  freePort,
  repoRoot,
  spawnManaged,
  type ManagedProcess,
} from '@energy-ingest/testenv'
import type pg from 'pg'
import { expect } from 'vitest'

const WRITER_MAIN = join(repoRoot, 'services/writer/dist/main.js')
export const FLEET = 'chaos-fleet-token'
export const KEY = 'chaos-analytics-key'

/** The writer as a process, started again whenever it exits (as `npm start` does), until stopped. */
export class SupervisedWriter {
  proc: ManagedProcess | undefined
  starts = 0
  private stopping = false
  /** The process the last kill() hit. */
  private killed: ManagedProcess | undefined
  private constructor(
    private readonly env: Record<string, string>,
    private readonly logDir: string,
    readonly url: string,
  ) {}

  static async start(env: Record<string, string>, logDir: string): Promise<SupervisedWriter> {
    const port = await freePort()
    const w = new SupervisedWriter({ ...env, WRITER_PORT: String(port) }, logDir, `http://127.0.0.1:${port}`)
    w.spawn()
    return w
  }

  private spawn(): void {
    this.starts++
    const proc = spawnManaged(process.execPath, [WRITER_MAIN], {
      name: `writer-${this.starts}`,
      logFile: join(this.logDir, 'writer.log'),
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...this.env },
    })
    this.proc = proc
    void proc.exited.then(() => {
      if (!this.stopping) setTimeout(() => this.spawn(), 200)
    })
  }

  /**
   * SIGKILLs the running writer. A kill soon after the previous one would otherwise hit the process
   * already gone (its successor starts 200 ms after it exits): it waits for the successor first.
   */
  async kill(): Promise<void> {
    await this.running()
    this.killed = this.proc
    await this.proc!.kill()
  }

  /** Resolves once a writer process started after the last kill is running. */
  async running(): Promise<void> {
    await eventually(() => this.proc !== undefined && this.proc !== this.killed && this.proc.isRunning(), {
      timeoutMs: 30_000,
      intervalMs: 20,
      message: 'the writer running again after a kill',
    })
  }

  async stop(): Promise<void> {
    this.stopping = true
    await this.proc?.stop('SIGTERM', 20_000)
  }
}

/**
 * A device fleet posting batches through the gateway, one batch in flight, as devices do: a 503 is
 * retried (same readings) after a short pause, and only a 202 counts the batch as accepted.
 */
export class Stream {
  readonly meters: MeterReading[] = []
  readonly vehicles: VehicleReading[] = []
  refusals = 0
  private seq = 0
  private running: Promise<void> | undefined
  private stopping = false
  private readonly base = Date.now() - 3_600_000

  constructor(private readonly gw: gateway.App) {}

  get accepted(): number {
    return this.meters.length + this.vehicles.length
  }

  start(): void {
    this.stopping = false
    this.running = this.loop()
  }

  async stop(): Promise<void> {
    this.stopping = true
    await this.running
  }

  /** Resolves once `n` more readings have been accepted than when called. */
  async more(n: number, message: string): Promise<void> {
    const target = this.accepted + n
    await eventually(() => this.accepted >= target, { timeoutMs: 120_000, intervalMs: 50, message })
  }

  /** Resolves once the gateway has refused a batch (the fault reached the devices). */
  async refused(message: string): Promise<void> {
    const target = this.refusals + 1
    await eventually(() => this.refusals >= target, { timeoutMs: 60_000, intervalMs: 50, message })
  }

  private batch(): { meters: MeterReading[]; vehicles: VehicleReading[] } {
    const n = this.seq++
    const timestamp = new Date(this.base + n * 1000).toISOString()
    const meters = Array.from({ length: 10 }, (_, d) => ({
      meterId: `CM-${d}`,
      kwhConsumedAc: ((n * 10 + d) % 997) / 1000,
      voltage: 230,
      timestamp,
    }))
    const vehicles = Array.from({ length: 10 }, (_, d) => ({
      vehicleId: `CV-${d}`,
      soc: (n + d) % 100,
      kwhDeliveredDc: ((n * 7 + d) % 991) / 1000,
      batteryTemp: 20 + (d % 10),
      timestamp,
    }))
    return { meters, vehicles }
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const b = this.batch()
      for (;;) {
        const res = await this.gw.inject({
          method: 'POST',
          url: '/v1/ingest/batch',
          payload: [...b.meters, ...b.vehicles],
          headers: { authorization: `Bearer ${FLEET}` },
        })
        if (res.statusCode === 202) {
          expect(res.json()).toMatchObject({ accepted: 20 })
          this.meters.push(...b.meters)
          this.vehicles.push(...b.vehicles)
          break
        }
        expect(res.statusCode, res.body).toBe(503)
        this.refusals++
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  }
}

export async function ready(url: string, inject?: analytics.App | gateway.App): Promise<boolean> {
  if (inject) return (await inject.inject({ method: 'GET', url })).statusCode === 200
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined)
  return res?.status === 200
}

/** The services under test: the gateway and analytics in-process, the writer as a process. */
export interface Services {
  gw: gateway.App
  an: analytics.App
  writer: SupervisedWriter
  primary: pg.Pool
}

export async function allReady(s: Services): Promise<void> {
  await eventually(
    async () =>
      (await ready('/health/ready', s.gw)) &&
      (await ready(`${s.writer.url}/health/ready`)) &&
      (await ready('/health/ready', s.an)),
    { timeoutMs: 120_000, intervalMs: 250, message: 'gateway, writer and analytics ready again' },
  )
}

/** Every accepted reading stored once, nothing else; rollups exact; live rows the newest. */
export async function expectExact(s: Services, stream: Stream): Promise<void> {
  await allReady(s)
  await eventually(
    async () => {
      const { rows } = await s.primary.query<{ n: string }>(
        'SELECT (SELECT count(*) FROM meter_history) + (SELECT count(*) FROM vehicle_history) AS n',
      )
      return Number(rows[0]!.n) >= stream.accepted
    },
    { timeoutMs: 120_000, intervalMs: 250, message: `${stream.accepted} readings stored` },
  )
  await assertStoredExactly(s.primary, stream.meters, stream.vehicles, closeHours)
}
