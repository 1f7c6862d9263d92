import { spawn } from 'node:child_process'
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { localstackRoot } from './paths.js'

/**
 * A clean-up the watchdog runs if the owner dies: `require(module)[fn](...args)`. The module is plain
 * CommonJS that runs without a build (testenv removes its container runs this way).
 */
export interface CleanupHook {
  module: string
  fn: string
  args: unknown[]
}

interface State {
  pids: number[]
  /** Each tracked pid's start time (process-alive.cjs): the watchdog kills no later owner of the number. */
  starts: Record<number, string>
  dirs: string[]
  cleanups: CleanupHook[]
}

const { procStart, sameProcess } = createRequire(import.meta.url)('../process-alive.cjs') as {
  procStart: (pid: number) => { start: string; zombie: boolean } | undefined
  sameProcess: (pid: number, start: string | undefined) => boolean
}

/**
 * Keeps a list of child processes, temp folders and clean-up hooks on disk and starts a detached
 * watchdog that removes them if this process dies before `dispose()`: no postgres, java or container
 * outlives a killed run, stack or bench.
 */
export class Reaper {
  private readonly state: State = { pids: [], starts: {}, dirs: [], cleanups: [] }
  private readonly stateFile: string
  private readonly stateDir: string

  constructor() {
    this.stateDir = mkdtempSync(join(tmpdir(), 'energy-reaper-'))
    this.stateFile = join(this.stateDir, 'state.json')
    this.state.dirs.push(this.stateDir)
    this.flush()
    const child = spawn(
      process.execPath,
      [join(localstackRoot, 'reaper.cjs'), String(process.pid), this.stateFile],
      {
        detached: true,
        stdio: 'ignore',
      },
    )
    child.unref()
  }

  trackPid(pid: number): void {
    this.state.pids.push(pid)
    const start = procStart(pid)?.start
    if (start !== undefined) this.state.starts[pid] = start
    this.flush()
  }

  untrackPid(pid: number): void {
    this.state.pids = this.state.pids.filter((p) => p !== pid)
    delete this.state.starts[pid]
    this.flush()
  }

  trackDir(dir: string): void {
    this.state.dirs.push(dir)
    this.flush()
  }

  /** A clean-up the watchdog runs if this process dies (the caller does its own on a normal stop). */
  trackCleanup(hook: CleanupHook): void {
    this.state.cleanups.push(hook)
    this.flush()
  }

  /**
   * Stops whatever is still tracked (a start-up interrupted half-way): SIGTERM to each process group,
   * then SIGKILL after `graceMs`.
   */
  async terminateRemaining(graceMs = 10_000): Promise<void> {
    const ours = (pid: number) => sameProcess(pid, this.state.starts[pid])
    const signalAll = (signal: NodeJS.Signals) => {
      for (const pid of this.state.pids.filter(ours)) {
        try {
          process.kill(-pid, signal)
        } catch {
          /* gone */
        }
      }
    }
    signalAll('SIGTERM')
    const deadline = Date.now() + graceMs
    while (this.state.pids.some(ours) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    signalAll('SIGKILL')
    this.state.pids = []
    this.state.starts = {}
    this.flush()
  }

  /** Normal shutdown: removes tracked folders; the watchdog exits once its state file is gone. */
  dispose(): void {
    for (const dir of this.state.dirs) rmSync(dir, { recursive: true, force: true })
    rmSync(this.stateFile, { force: true })
  }

  /** Writes the state whole or not at all (a rename), so the watchdog never reads half of it. */
  private flush(): void {
    const next = `${this.stateFile}.next`
    writeFileSync(next, JSON.stringify(this.state))
    renameSync(next, this.stateFile)
  }
}

/** The reaper and data folder a server runs with, and how to let go of what it made itself. */
export interface Ownership {
  reaper: Reaper
  /** The reaper made for this server (none when the caller gave one). */
  ownReaper: Reaper | undefined
  dataDir: string
  /** Disposes an own reaper (which removes the temp folder), else removes an own temp folder. */
  release(): void
}

/**
 * The caller's reaper and data folder, or ones of its own. Without a caller's reaper, one of its own:
 * a killed owner still leaves no process or folder behind. Without a caller's folder, a temp folder
 * made by `makeTemp` and tracked by the reaper.
 */
export function ownership(options: { dataDir?: string; reaper?: Reaper }, makeTemp: () => string): Ownership {
  const ownReaper = options.reaper === undefined ? new Reaper() : undefined
  const reaper = options.reaper ?? ownReaper!
  const ownsDir = options.dataDir === undefined
  const dataDir = options.dataDir ?? makeTemp()
  if (ownsDir) reaper.trackDir(dataDir)
  return {
    reaper,
    ownReaper,
    dataDir,
    release() {
      if (ownReaper) ownReaper.dispose()
      else if (ownsDir) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
