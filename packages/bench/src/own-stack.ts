// The chaos bench's own infrastructure: the same program as `npm start` (infra/stack), with its data in
// a temp folder and its own free ports, so its supervisor restarts what the bench breaks.
import { chmodSync, existsSync, mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import {
  Reaper,
  cacheDir,
  eventually,
  freePort,
  repoRoot,
  spawnManaged,
  type ManagedProcess,
} from '@energy-ingest/localstack'
import { progress } from './report.js'

export interface OwnStack {
  dataDir: string
  stop(): Promise<void>
}

/** A port p with p .. p + span - 1 all free a moment ago (the stack numbers Kafka nodes upwards). */
async function freeRun(span: number): Promise<number> {
  for (;;) {
    const base = await freePort()
    if (base + span > 65_535) continue
    const probes = await Promise.all(Array.from({ length: span - 1 }, (_, i) => portFree(base + i + 1)))
    if (probes.every(Boolean)) return base
  }
}

async function portFree(port: number): Promise<boolean> {
  const { createServer } = await import('node:net')
  return await new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

export async function startOwnStack(options: {
  brokers: 1 | 3
  writers: number
  partitions: number
}): Promise<OwnStack> {
  const entry = join(repoRoot, 'infra', 'stack', 'dist', 'main.js')
  if (!existsSync(entry)) throw new Error(`${entry} missing: run \`npm run build\` first`)
  const dataDir = mkdtempSync(join(cacheDir, 'tmp-chaos-stack-'))
  // mkdtemp makes it 0700: as root, PostgreSQL runs as another user, which must reach its folders.
  chmodSync(dataDir, 0o755)
  // If the bench dies, its watchdog stops the stack (whose own watchdog then stops its servers).
  const reaper = new Reaper()
  reaper.trackDir(dataDir)
  const kafkaBase = await freeRun(6)
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    STACK_DATA_DIR: dataDir,
    STACK_PG_PRIMARY_PORT: String(await freePort()),
    STACK_PG_REPLICA_PORT: String(await freePort()),
    STACK_KAFKA_PORT: String(kafkaBase),
    STACK_KAFKA_CONTROLLER_PORT: String(kafkaBase + 1),
    GATEWAY_PORT: String(await freePort()),
    ANALYTICS_PORT: String(await freePort()),
    WRITER_PORT: String(await freeRun(options.writers)),
    STACK_BROKERS: String(options.brokers),
    STACK_WRITERS: String(options.writers),
    KAFKA_PARTITIONS: String(options.partitions),
    LOG_LEVEL: 'warn',
  }
  progress(
    `starting a stack of its own (${options.brokers} broker(s), ${options.writers} writer(s)) in ${dataDir}…`,
  )
  const proc: ManagedProcess = spawnManaged(process.execPath, [entry], {
    name: 'stack',
    logFile: join(cacheDir, 'chaos-stack.log'),
    cwd: repoRoot,
    env,
  })
  reaper.trackPid(proc.pid)
  const stop = async () => {
    await proc.stop('SIGTERM', 60_000)
    reaper.dispose()
  }
  try {
    let exited = false
    void proc.exited.then(() => (exited = true))
    await eventually(() => exited || existsSync(join(dataDir, 'stack.env')), {
      timeoutMs: 600_000,
      intervalMs: 500,
      message: 'the stack to start',
    })
    if (exited) throw new Error(`the stack exited; see ${join(cacheDir, 'chaos-stack.log')}`)
  } catch (err) {
    await stop()
    throw err
  }
  return { dataDir, stop }
}
