// A writer PROCESS killed with SIGKILL at random points of a stream, restarted each time: in the end
// every table holds exactly what one clean run would have stored. Needs services/writer/dist (npm test
// builds it first).
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually, freePort, repoRoot, spawnManaged, type ManagedProcess } from '@energy-ingest/testenv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertStoredExactly,
  historyCounts,
  prng,
  publishReadings,
  randomReadings,
  setupHarness,
  writerEnv,
  type Harness,
} from './helpers.js'

const DAY = 86_400_000
const MAIN = join(repoRoot, 'services/writer/dist/main.js')

describe('writer process killed mid-stream', () => {
  let h: Harness
  const logDir = mkdtempSync(join(tmpdir(), 'writer-crash-'))
  const processes: ManagedProcess[] = []

  beforeAll(async () => {
    h = await setupHarness()
  })

  afterAll(async () => {
    for (const p of processes) await p.kill()
    await h?.close()
    if (!process.env.KEEP_WRITER_LOGS) rmSync(logDir, { recursive: true, force: true })
  })

  async function spawnWriter(n: number): Promise<{ proc: ManagedProcess; url: string }> {
    const port = await freePort()
    const proc = spawnManaged(process.execPath, [MAIN], {
      name: `writer-${n}`,
      logFile: join(logDir, `writer-${n}.log`),
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        ...writerEnv(h, {
          WRITER_PORT: String(port),
          // Small fetches: many batches, so the kills land in the middle of the work.
          KAFKA_MAX_BYTES_PER_PARTITION: '8192',
          KAFKA_PARTITIONS_CONCURRENTLY: '3',
          // A killed member holds its partitions until its session expires (6 s is the broker's minimum).
          KAFKA_SESSION_TIMEOUT_MS: '6000',
          LOG_LEVEL: 'info',
        }),
      },
    })
    processes.push(proc)
    return { proc, url: `http://127.0.0.1:${port}` }
  }

  it('stores every reading exactly once after three SIGKILLs and restarts', async () => {
    expect(existsSync(MAIN), `${MAIN} missing: build the writer first (npm test does)`).toBe(true)
    const end = Date.now() - 60_000
    const data = randomReadings({ seed: 1234, devices: 40, perDevice: 120, start: end - 70 * DAY, end })
    const meters = [...data.meters, ...data.meters.slice(0, 300)]
    const vehicles = [...data.vehicles, ...data.vehicles.slice(0, 300)]
    await publishReadings(h, 'meter', meters, 20)
    await publishReadings(h, 'vehicle', vehicles, 20)
    const total = new Set(data.meters.map((r) => `${r.meterId}|${r.timestamp}`)).size * 2

    const rand = prng(99)
    const thresholds = [0.1, 0.35, 0.6].map((base) => Math.floor(total * (base + rand() * 0.2)))
    for (const [i, threshold] of thresholds.entries()) {
      const { proc } = await spawnWriter(i)
      await eventually(
        async () => {
          if (!proc.isRunning()) throw new Error(`writer ${i} exited early (log in ${logDir})`)
          const c = await historyCounts(h.pool)
          return c.meter + c.vehicle >= threshold
        },
        { timeoutMs: 60_000, intervalMs: 20, message: `${threshold} rows stored before kill ${i}` },
      )
      await proc.kill()
    }
    const killedAt = await historyCounts(h.pool)
    expect(killedAt.meter + killedAt.vehicle).toBeLessThan(total)

    const { proc, url } = await spawnWriter(9)
    await eventually(
      async () => {
        const c = await historyCounts(h.pool)
        return c.meter + c.vehicle === total
      },
      { timeoutMs: 60_000, message: `all ${total} rows stored after the restarts` },
    )
    await eventually(async () => (await fetch(`${url}/health/ready`)).status === 200, { message: 'ready' })

    await assertStoredExactly(h.pool, meters, vehicles)

    // A graceful stop: finishes the batch in hand, commits, leaves the group, exits 0.
    await proc.stop('SIGTERM')
    expect(await proc.exited).toBe(0)
  })
})
