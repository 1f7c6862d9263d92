import {
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { eventually } from './eventually.js'
import {
  PG_SUPERUSER as SUPERUSER,
  chownTree,
  cleanEnv,
  initdbTemplate,
  pgBinDir,
  reachable,
  reachableBinDir,
  runAs,
  workRoot,
} from './pg-binaries.js'
import { freePort, log, spawnManaged, tail, type ManagedProcess } from './process.js'
import { Reaper } from './reaper.js'

/**
 * Removes the lock file a killed server left behind; refuses when the process it names still runs
 * (another postmaster on this folder, e.g. restarted by hand with pg_ctl): two on one folder corrupt it.
 */
function removeStaleLock(dir: string): void {
  const lock = join(dir, 'postmaster.pid')
  if (!existsSync(lock)) return
  const pid = Number(readFileSync(lock, 'utf8').split('\n')[0])
  if (Number.isInteger(pid) && pid > 0) {
    let alive = true
    try {
      process.kill(pid, 0)
    } catch {
      alive = false
    }
    if (alive) throw new Error(`postgres (pid ${pid}) still runs on ${dir}; stop it first`)
  }
  rmSync(lock, { force: true })
}

export interface PostgresPair {
  primaryUrl: string
  replicaUrl: string
  primaryPort: number
  replicaPort: number
  /**
   * Stops the replica (fast shutdown) and starts it again on the same folder and port; resolves when it
   * streams again. A restarted replica has replayed no transaction yet: pg_last_xact_replay_timestamp()
   * is NULL until the primary commits one.
   */
  restartReplica(): Promise<void>
  stop(): Promise<void>
  /** Settles when that server's process now running exits. */
  exited(server: PgServer): Promise<number | null>
  /** That server's postmaster process id while it runs (faults are injected by signalling it). */
  pid(server: PgServer): number | undefined
  /** Starts that server again on its data folder and port (after it exited), once it answers. */
  restart(server: PgServer): Promise<void>
  /** Stops one server: `fast` (SIGINT: sessions aborted, checkpoint) or `immediate` (SIGQUIT: a crash). */
  stopServer(server: PgServer, how: 'fast' | 'immediate'): Promise<void>
}

export type PgServer = 'primary' | 'replica'

export interface PostgresOptions {
  /** Keep both clusters here across runs (the dev stack); default: a temp folder removed on stop. */
  dataDir?: string
  primaryPort?: number
  replicaPort?: number
  /** Durability off for tests (fsync, full_page_writes); the dev stack keeps it on. */
  fast?: boolean
  reaper?: Reaper
}

export const urlFor = (port: number, database = 'postgres') =>
  `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`

function settings(port: number, socketDir: string, fast: boolean): string {
  return [
    `port = ${port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${socketDir}'`,
    'wal_level = replica',
    'max_wal_senders = 10',
    'max_replication_slots = 10',
    'hot_standby = on',
    'hot_standby_feedback = on',
    'wal_keep_size = 1024MB',
    'max_connections = 200',
    'shared_buffers = 256MB',
    'max_wal_size = 4GB',
    // Analytics reads a replica that is being written: cancel long standby conflicts late, not early.
    'max_standby_streaming_delay = 30s',
    'synchronous_commit = on',
    ...(fast ? ['fsync = off', 'full_page_writes = off'] : []),
    `log_min_messages = warning`,
    '',
  ].join('\n')
}

async function waitReady(
  url: string,
  dataDir: string,
  proc: ManagedProcess,
  logFile: string,
  standby: boolean,
): Promise<void> {
  await eventually(
    async () => {
      if (!proc.isRunning()) throw new Error(`postgres exited during start-up:\n${tail(logFile)}`)
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
      try {
        await client.connect()
        // Another server on the same port would answer too: make sure it is this data folder's.
        const dir = await client.query<{ d: string }>(`SELECT current_setting('data_directory') AS d`)
        if (dir.rows[0]?.d !== dataDir) {
          throw new Error(`port answered by another PostgreSQL (${dir.rows[0]?.d}); is the port in use?`)
        }
        if (!standby) return true
        const { rows } = await client.query<{ status: string | null }>(
          'SELECT (SELECT status FROM pg_stat_wal_receiver) AS status',
        )
        return rows[0]?.status === 'streaming'
      } finally {
        await client.end().catch(() => undefined)
      }
    },
    {
      timeoutMs: 60_000,
      intervalMs: 100,
      message: `PostgreSQL ${standby ? 'replica' : 'primary'} at ${url}`,
    },
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n--- ${logFile} ---\n${tail(logFile)}`)
  })
}

/**
 * A PostgreSQL primary and a hot-standby replica streaming from it, on 127.0.0.1. The replica is a
 * cold clone of the primary's data folder (taken before the primary's first start) plus
 * standby.signal and primary_conninfo: no pg_basebackup needed, so the npm builds suffice.
 */
export async function startPostgresPair(options: PostgresOptions = {}): Promise<PostgresPair> {
  const who = runAs()
  const bin = reachableBinDir(pgBinDir(), who)
  // Without a caller's reaper, one of its own: a killed owner still leaves no postgres or folder behind.
  const ownReaper = options.reaper === undefined ? new Reaper() : undefined
  options = { ...options, reaper: options.reaper ?? ownReaper }
  const ownsDir = options.dataDir === undefined
  if (options.dataDir !== undefined && !reachable(options.dataDir, who)) {
    throw new Error(
      `PostgreSQL runs as uid ${who.uid}, which cannot reach ${options.dataDir} (a folder above it lacks ` +
        'search permission); choose a data folder it can reach (for npm start: STACK_DATA_DIR)',
    )
  }
  const base = options.dataDir ?? mkdtempSync(join(workRoot(who), 'tmp-pg-'))
  if (ownsDir) options.reaper?.trackDir(base)
  mkdirSync(base, { recursive: true })
  const primaryDir = join(base, 'primary')
  const replicaDir = join(base, 'replica')
  const socketDir = join(base, 'sockets')
  mkdirSync(socketDir, { recursive: true })
  chownSync(base, who.uid ?? process.getuid?.() ?? 0, who.gid ?? process.getgid?.() ?? 0)
  chownTree(socketDir, who)
  const primaryPort = options.primaryPort ?? (await freePort())
  const replicaPort = options.replicaPort ?? (await freePort())
  const fast = options.fast ?? true

  if (!existsSync(join(primaryDir, 'PG_VERSION'))) {
    rmSync(replicaDir, { recursive: true, force: true })
    const template = await initdbTemplate(bin, who)
    cpSync(template, primaryDir, { recursive: true })
    writeFileSync(join(primaryDir, 'postgresql.auto.conf'), settings(primaryPort, socketDir, fast))
    cpSync(primaryDir, replicaDir, { recursive: true })
    writeFileSync(join(replicaDir, 'standby.signal'), '')
    writeFileSync(
      join(replicaDir, 'postgresql.auto.conf'),
      settings(replicaPort, socketDir, fast) +
        `primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=${SUPERUSER} application_name=replica'\n`,
    )
    chownTree(primaryDir, who)
    chownTree(replicaDir, who)
  }

  const started = Date.now()
  const env = cleanEnv(base)
  const startOne = async (dir: string, port: number, standby: boolean) => {
    removeStaleLock(dir)
    const logFile = join(base, standby ? 'replica.log' : 'primary.log')
    const proc = spawnManaged(join(bin, 'postgres'), ['-D', dir], {
      name: standby ? 'pg-replica' : 'pg-primary',
      logFile,
      env,
      ...who,
    })
    options.reaper?.trackPid(proc.pid)
    try {
      await waitReady(urlFor(port), dir, proc, logFile, standby)
    } catch (err) {
      // Never leave a server that did not come up running behind a failed start.
      await proc.stop('SIGINT', 20_000)
      options.reaper?.untrackPid(proc.pid)
      throw err
    }
    return proc
  }
  let primary = await startOne(primaryDir, primaryPort, false)
  let replica = await startOne(replicaDir, replicaPort, true).catch(async (err: unknown) => {
    await primary.stop('SIGINT')
    throw err
  })
  log(
    `PostgreSQL primary :${primaryPort} + streaming replica :${replicaPort} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
  const pair: PostgresPair = {
    primaryUrl: urlFor(primaryPort),
    replicaUrl: urlFor(replicaPort),
    primaryPort,
    replicaPort,
    exited: (server) => (server === 'primary' ? primary : replica).exited,
    pid(server) {
      const proc = server === 'primary' ? primary : replica
      return proc.isRunning() ? proc.pid : undefined
    },
    async stopServer(server, how) {
      await (server === 'primary' ? primary : replica).stop(how === 'fast' ? 'SIGINT' : 'SIGQUIT', 20_000)
    },
    async restart(server) {
      const old = server === 'primary' ? primary : replica
      if (old.isRunning()) return
      options.reaper?.untrackPid(old.pid)
      if (server === 'primary') primary = await startOne(primaryDir, primaryPort, false)
      else replica = await startOne(replicaDir, replicaPort, true)
    },
    async restartReplica() {
      await pair.stopServer('replica', 'fast')
      await pair.restart('replica')
    },
    async stop() {
      // SIGINT = fast shutdown: aborts sessions, checkpoints, exits cleanly.
      await replica.stop('SIGINT', 20_000)
      await primary.stop('SIGINT', 20_000)
      options.reaper?.untrackPid(replica.pid)
      options.reaper?.untrackPid(primary.pid)
      // Its own reaper removes the temp folder; a caller's reaper does so when the caller disposes it.
      ownReaper?.dispose()
    },
  }
  return pair
}
