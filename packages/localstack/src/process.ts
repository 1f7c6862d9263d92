import { spawn, type ChildProcess } from 'node:child_process'
import { randomInt } from 'node:crypto'
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

/** Whether a server could listen on `port` of 127.0.0.1 just now (0: any port; resolves the port). */
function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(undefined))
    server.listen(port, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined))
    })
  })
}

/** The kernel's range of local ports for outgoing connections (Linux), else IANA's dynamic range. */
export function ephemeralPortRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)
    if (Number(low) > 0 && Number(high) >= Number(low)) return [Number(low), Number(high)]
  } catch {
    /* not Linux */
  }
  return [49_152, 65_535]
}

const LOWEST_PORT = 20_000
/** Ports this process handed out: never twice, even once their first user has stopped. */
const handedOut = new Set<number>()

/**
 * A TCP port that was free a moment ago on 127.0.0.1, below the range outgoing connections take their
 * local ports from. A port the kernel picks (listen on 0) comes from that range, so between picking it
 * and a server binding it any new connection could take it: a replica once failed on "Address already
 * in use" while a three-broker cluster was connecting. Below the range only another server can.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralPortRange()
  const span = Math.min(low, 65_536) - LOWEST_PORT
  for (let attempt = 0; span >= 1_000 && attempt < 100; attempt++) {
    const port = LOWEST_PORT + randomInt(span)
    if (handedOut.has(port) || (await tryListen(port)) !== port) continue
    handedOut.add(port)
    return port
  }
  // No room below the range (a kernel configured so): the kernel's pick.
  const port = await tryListen(0)
  if (port === undefined) throw new Error('no free port on 127.0.0.1')
  return port
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
