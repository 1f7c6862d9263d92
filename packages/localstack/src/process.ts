import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'

export interface ManagedProcess {
  readonly name: string
  readonly pid: number
  readonly exited: Promise<number | null>
  /** Sends `signal`, waits up to `timeoutMs` for exit, then SIGKILLs the process group. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>
  /** SIGKILL now (a crash, not a shutdown). */
  kill(): Promise<void>
  isRunning(): boolean
}

export interface SpawnOptions {
  name: string
  logFile: string
  env?: NodeJS.ProcessEnv
  cwd?: string
  uid?: number
  gid?: number
}

/** Starts a long-running server in its own process group, output appended to `logFile`. */
export function spawnManaged(command: string, args: string[], options: SpawnOptions): ManagedProcess {
  const fd = openSync(options.logFile, 'a')
  let child: ChildProcess
  try {
    child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', fd, fd],
      detached: true,
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
    })
  } finally {
    closeSync(fd)
  }
  if (child.pid === undefined) throw new Error(`${options.name}: could not spawn ${command}`)
  const pid = child.pid
  let running = true
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      running = false
      resolve(code)
    })
    child.once('error', () => {
      running = false
      resolve(null)
    })
  })
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal)
    } catch {
      /* gone already */
    }
  }
  return {
    name: options.name,
    pid,
    exited,
    isRunning: () => running,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (!running) return
      killGroup(signal)
      const timer = setTimeout(() => killGroup('SIGKILL'), timeoutMs)
      await exited
      clearTimeout(timer)
    },
    async kill() {
      if (!running) return
      killGroup('SIGKILL')
      await exited
    },
  }
}

/** Runs a short command to completion; rejects with its output when it fails. */
export function runToCompletion(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; uid?: number; gid?: number; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
    })
    let output = ''
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000)
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(output)
      else
        reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? code}):\n${output.slice(-4000)}`))
    })
  })
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

export function tail(file: string, chars = 3000): string {
  try {
    return readFileSync(file, 'utf8').slice(-chars)
  } catch {
    return '(no log)'
  }
}

export function log(message: string): void {
  process.stderr.write(`[localstack] ${message}\n`)
}
