// The watchdog's own judgements (reaper.cjs, process-alive.cjs: plain JS, loaded as the watchdog loads them).
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { eventually } from './eventually.js'

const require = createRequire(import.meta.url)
const { readState } = require('../reaper.cjs') as {
  readState: (file: string) => { state?: unknown; missing?: true; unreadable?: true }
}
const { procStart, sameProcess } = require('../process-alive.cjs') as {
  procStart: (pid: number) => { start: string; zombie: boolean } | undefined
  sameProcess: (pid: number, start: string | undefined) => boolean
}

const dir = mkdtempSync(join(tmpdir(), 'reaper-watch-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the watchdog reading its state file', () => {
  it('takes a removed file for a normal stop, and a file caught mid-write for nothing yet', () => {
    const file = join(dir, 'state.json')
    expect(readState(file)).toEqual({ missing: true })
    // What a reader sees while the owner writes: an emptied file, then part of the JSON.
    for (const partial of ['', '{"pids":[12', '{"pids":[1],"dirs":["/tmp/x"']) {
      writeFileSync(file, partial)
      expect(readState(file)).toEqual({ unreadable: true })
    }
    writeFileSync(file, '{"pids":[1],"dirs":[],"cleanups":[]}')
    expect(readState(file)).toEqual({ state: { pids: [1], dirs: [], cleanups: [] } })
  })
})

describe('sameProcess', () => {
  it('is this process with its own start time, and not with another (its number given to a newer one)', () => {
    const me = procStart(process.pid)
    expect(me?.zombie).toBe(false)
    expect(sameProcess(process.pid, me?.start)).toBe(true)
    expect(sameProcess(process.pid, String(Number(me?.start) + 1))).toBe(false)
  })

  it('is false once the process has exited', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    const start = procStart(child.pid!)?.start
    await new Promise((resolve) => child.once('exit', resolve))
    expect(sameProcess(child.pid!, start)).toBe(false)
  })
})

describe('the watchdog, once its parent is gone', () => {
  const sleeper = (detached: boolean) =>
    spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', detached })
  const running = (pid: number) => sameProcess(pid, procStart(pid)?.start)

  it('kills the processes it tracks, and none that holds a tracked number with another start time', async () => {
    const parent = sleeper(false)
    const ours = sleeper(true)
    const stranger = sleeper(true) // stands for a newer process given a tracked number
    try {
      const file = join(dir, 'watched.json')
      const folder = mkdtempSync(join(dir, 'folder-'))
      const starts = { [ours.pid!]: procStart(ours.pid!)!.start, [stranger.pid!]: '1' }
      writeFileSync(
        file,
        JSON.stringify({ pids: [ours.pid, stranger.pid], starts, dirs: [folder], cleanups: [] }),
      )
      const watchdog = spawn(process.execPath, [require.resolve('../reaper.cjs'), String(parent.pid), file], {
        stdio: 'ignore',
      })
      parent.kill('SIGKILL')
      await eventually(() => !existsSync(file), { timeoutMs: 20_000, message: 'the watchdog to finish' })
      await new Promise((resolve) =>
        watchdog.exitCode === null ? watchdog.once('exit', resolve) : resolve(null),
      )
      expect(existsSync(folder)).toBe(false)
      await eventually(() => !running(ours.pid!), {
        timeoutMs: 10_000,
        message: 'the tracked process to end',
      })
      expect(running(stranger.pid!)).toBe(true)
    } finally {
      for (const p of [parent, ours, stranger]) p.kill('SIGKILL')
    }
  })
})
