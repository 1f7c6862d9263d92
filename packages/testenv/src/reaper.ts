import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testenvRoot } from './paths.js'

/** Where a Docker engine answers (docker-cleanup.cjs's Endpoint). */
export interface DockerEndpoint {
  socketPath?: string
  host?: string
  port?: number
}

interface State {
  pids: number[]
  dirs: string[]
  /** Container runs whose labelled objects are removed if the owner dies (docker-cleanup.cjs). */
  docker: { endpoint: DockerEndpoint; run: string }[]
}

/**
 * Keeps a list of child processes, temp folders and container runs on disk and starts a detached
 * watchdog that removes them if this process dies before `dispose()`: no postgres, java or container
 * outlives a killed run.
 */
export class Reaper {
  private readonly state: State = { pids: [], dirs: [], docker: [] }
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

  /** The containers, networks and volumes labelled with this run id (removed by the caller on stop). */
  trackDockerRun(endpoint: DockerEndpoint, run: string): void {
    this.state.docker.push({ endpoint, run })
    this.flush()
  }

  /**
   * Stops whatever is still tracked (a start-up interrupted half-way): SIGTERM to each process group,
   * then SIGKILL after `graceMs`.
   */
  async terminateRemaining(graceMs = 10_000): Promise<void> {
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    }
    const signalAll = (signal: NodeJS.Signals) => {
      for (const pid of this.state.pids) {
        try {
          process.kill(-pid, signal)
        } catch {
          /* gone */
        }
      }
    }
    signalAll('SIGTERM')
    const deadline = Date.now() + graceMs
    while (this.state.pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    signalAll('SIGKILL')
    this.state.pids = []
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
