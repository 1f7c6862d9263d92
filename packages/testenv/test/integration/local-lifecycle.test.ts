// Runs in the local-process suite only (vitest.config.ts): it starts brokers and PostgreSQL servers
// of its own, whatever TESTENV the rest of the run uses.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { eventually, Reaper, startKafka, startPostgresPair } from '../../src/index.js'

const { procStart, sameProcess } = createRequire(import.meta.url)(
  '@energy-ingest/localstack/process-alive.cjs',
) as {
  procStart: (pid: number) => { start: string; zombie: boolean } | undefined
  sameProcess: (pid: number, start: string | undefined) => boolean
}

/**
 * Whether each of `pids` still runs, judged as the watchdog judges it: a number taken over by a newer
 * process (they come round quickly here) or a zombie left for init to reap is not running.
 */
function watch(pids: number[]): { allRunning: () => boolean; running: () => number[] } {
  const starts = new Map(pids.map((pid) => [pid, procStart(pid)?.start]))
  const runs = (pid: number) => sameProcess(pid, starts.get(pid))
  return { allRunning: () => pids.every(runs), running: () => pids.filter(runs) }
}

describe('process lifecycle (local processes)', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const c of cleanups) await c()
  })

  it('stop() leaves no broker or postgres process and no folder behind', async () => {
    const reaper = new Reaper()
    const [kafka, postgres] = await Promise.all([startKafka({ reaper }), startPostgresPair({ reaper })])
    const state = JSON.parse(
      (await import('node:fs')).readFileSync((reaper as unknown as { stateFile: string }).stateFile, 'utf8'),
    ) as { pids: number[]; dirs: string[] }
    expect(state.pids.length).toBe(3)
    const processes = watch(state.pids)
    expect(processes.allRunning()).toBe(true)
    await Promise.all([kafka.stop(), postgres.stop()])
    reaper.dispose()
    expect(processes.running()).toEqual([])
    expect(state.dirs.filter((d) => existsSync(d))).toEqual([])
  })

  it('a broker started without a reaper removes its folder on close()', async () => {
    const kafka = await startKafka({ partitions: 1 })
    expect(existsSync(kafka.dataDir)).toBe(true)
    await kafka.close()
    expect(existsSync(kafka.dataDir)).toBe(false)
  })

  it('a SIGKILLed owner still leaves nothing behind (the reaper cleans up)', async () => {
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'fixtures', 'orphan-maker.mjs')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    cleanups.push(async () => void child.kill('SIGKILL'))
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const started = await eventually(
      () => (out.includes('\n') ? (JSON.parse(out) as { pids: number[]; dirs: string[] }) : undefined),
      {
        timeoutMs: 60_000,
        message: 'the orphan maker to start PostgreSQL',
      },
    )
    expect(started.pids.length).toBe(2)
    const processes = watch(started.pids)
    expect(processes.allRunning()).toBe(true)
    child.kill('SIGKILL')
    await eventually(() => processes.running().length === 0 && started.dirs.every((d) => !existsSync(d)), {
      timeoutMs: 20_000,
      message: 'the reaper to remove the orphaned postgres processes and folders',
    })
  })
})
