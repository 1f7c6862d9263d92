import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testenvRoot } from './paths.js'

interface State {
  pids: number[]
  dirs: string[]
}

/**
 * Keeps a list of child processes and temp folders on disk and starts a detached watchdog that
 * removes them if this process dies before `dispose()`: no postgres or java outlives a killed run.
 */
export class Reaper {
  private readonly state: State = { pids: [], dirs: [] }
  private readonly stateFile: string
  private readonly stateDir: string

  constructor() {
    this.stateDir = mkdtempSync(join(tmpdir(), 'energy-reaper-'))
    this.stateFile = join(this.stateDir, 'state.json')
    this.state.dirs.push(this.stateDir)
    this.flush()
    const child = spawn(
      process.execPath,
      [join(testenvRoot, 'reaper.cjs'), String(process.pid), this.stateFile],
      {
        detached: true,
        stdio: 'ignore',
      },
    )
    child.unref()
  }

  trackPid(pid: number): void {
    this.state.pids.push(pid)
    this.flush()
  }

  untrackPid(pid: number): void {
    this.state.pids = this.state.pids.filter((p) => p !== pid)
    this.flush()
  }

  trackDir(dir: string): void {
    this.state.dirs.push(dir)
    this.flush()
  }

  /** Normal shutdown: removes tracked folders; the watchdog exits once its state file is gone. */
  dispose(): void {
    for (const dir of this.state.dirs) rmSync(dir, { recursive: true, force: true })
    rmSync(this.stateFile, { force: true })
  }

  private flush(): void {
    writeFileSync(this.stateFile, JSON.stringify(this.state))
  }
}
