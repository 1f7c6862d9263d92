import { describe, expect, it } from 'vitest'
import { Supervisor, backoffMs, type SupervisedUnit } from './supervisor.js'

/** A unit whose runs are controlled by the test: each start() opens a run the test can end. */
function fakeUnit(name: string) {
  const runs: ((code: number | null) => void)[] = []
  const unit: SupervisedUnit & { runs: typeof runs; starts: number; failNext: number } = {
    name,
    logFile: `/logs/${name}.log`,
    runs,
    starts: 0,
    failNext: 0,
    async start() {
      unit.starts++
      if (unit.failNext > 0) {
        unit.failNext--
        throw new Error('port in use')
      }
      return { exited: new Promise<number | null>((resolve) => runs.push(resolve)) }
    },
  }
  return unit
}

/** A clock and a sleep the test moves by hand; sleeps resolve at once but advance the clock. */
function harness(overrides: { maxExits?: number } = {}) {
  let t = 0
  const logs: string[] = []
  const gaveUp: string[] = []
  const sleeps: number[] = []
  const supervisor = new Supervisor({
    maxExits: overrides.maxExits ?? 5,
    windowMs: 60_000,
    initialBackoffMs: 500,
    maxBackoffMs: 8_000,
    log: (m) => logs.push(m),
    onGiveUp: (unit, reason) => gaveUp.push(`${unit.name}: ${reason}`),
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms)
      t += ms
    },
  })
  return { supervisor, logs, gaveUp, sleeps, advance: (ms: number) => (t += ms) }
}

const flush = () => new Promise((resolve) => setImmediate(resolve))

async function until(check: () => boolean) {
  for (let i = 0; i < 1000 && !check(); i++) await flush()
  expect(check()).toBe(true)
}

describe('Supervisor', () => {
  it('restarts a unit that exits, with growing back-off, and logs it', async () => {
    const h = harness()
    const unit = fakeUnit('writer')
    const first = await unit.start()
    h.supervisor.watch(unit, first.exited)
    unit.runs[0]!(137)
    await until(() => unit.starts === 2)
    unit.runs[1]!(1)
    await until(() => unit.starts === 3)
    expect(h.sleeps).toEqual([500, 1000])
    expect(h.logs.some((l) => l.includes('writer exited (code 137)') && l.includes('/logs/writer.log'))).toBe(
      true,
    )
    expect(h.gaveUp).toEqual([])
  })

  it('gives up on a crash loop, naming the unit, and restarts nothing else', async () => {
    const h = harness({ maxExits: 3 })
    const loop = fakeUnit('analytics')
    const other = fakeUnit('gateway')
    h.supervisor.watch(loop, (await loop.start()).exited)
    h.supervisor.watch(other, (await other.start()).exited)
    for (let i = 0; i < 3; i++) {
      await until(() => loop.runs.length === i + 1)
      loop.runs[i]!(1)
    }
    await until(() => h.gaveUp.length === 1)
    expect(h.gaveUp[0]).toMatch(/^analytics: analytics exited 3 times within 60 s/)
    other.runs[0]!(1)
    await flush()
    expect(other.starts).toBe(1)
  })

  it('forgets exits older than the window', async () => {
    const h = harness({ maxExits: 2 })
    const unit = fakeUnit('writer')
    h.supervisor.watch(unit, (await unit.start()).exited)
    unit.runs[0]!(1)
    await until(() => unit.starts === 2)
    h.advance(120_000)
    unit.runs[1]!(1)
    await until(() => unit.starts === 3)
    expect(h.gaveUp).toEqual([])
  })

  it('counts a failed restart as an exit and tries again', async () => {
    const h = harness()
    const unit = fakeUnit('kafka')
    h.supervisor.watch(unit, (await unit.start()).exited)
    unit.failNext = 1
    unit.runs[0]!(1)
    await until(() => unit.runs.length === 2)
    expect(unit.starts).toBe(3)
    expect(h.logs.some((l) => l.includes('kafka did not come back: port in use'))).toBe(true)
    expect(h.sleeps).toEqual([500, 1000])
  })

  it('restarts nothing once stopped', async () => {
    const h = harness()
    const unit = fakeUnit('gateway')
    h.supervisor.watch(unit, (await unit.start()).exited)
    h.supervisor.stop()
    unit.runs[0]!(0)
    await h.supervisor.settled()
    expect(unit.starts).toBe(1)
  })
})

describe('backoffMs', () => {
  it('doubles from the initial value up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, 500, 8_000))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000,
    ])
  })
})
