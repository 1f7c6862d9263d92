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
import { ownership, type Ownership, type Reaper } from './reaper.js'

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
  /**
   * More postgresql.conf lines for both servers, e.g. `shared_preload_libraries = 'pg_stat_statements'`
   * (a bench's statement profile). Written when the folders are first created, like the rest.
   */
  extraSettings?: string[]
  reaper?: Reaper
}

export const urlFor = (port: number, database = 'postgres') =>
  `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`

function settings(port: number, socketDir: string, fast: boolean, extra: string[]): string {
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
    ...extra,
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

/** Where the pair lives: its folders, ports and the user its servers run as. */
interface PairLayout {
  who: ReturnType<typeof runAs>
  bin: string
  base: string
  primaryDir: string
  replicaDir: string
  socketDir: string
  primaryPort: number
  replicaPort: number
}

/** The pair's folders (made, owned by the user the servers run as) and ports. */
async function layOut(
  options: PostgresOptions,
  base: string,
  who: ReturnType<typeof runAs>,
): Promise<PairLayout> {
  mkdirSync(base, { recursive: true })
  const socketDir = join(base, 'sockets')
  mkdirSync(socketDir, { recursive: true })
  chownSync(base, who.uid ?? process.getuid?.() ?? 0, who.gid ?? process.getgid?.() ?? 0)
  chownTree(socketDir, who)
  return {
    who,
    bin: reachableBinDir(pgBinDir(), who),
    base,
    primaryDir: join(base, 'primary'),
    replicaDir: join(base, 'replica'),
    socketDir,
    primaryPort: options.primaryPort ?? (await freePort()),
    replicaPort: options.replicaPort ?? (await freePort()),
  }
}

/**
 * On first use: the primary's folder from the initdb template, and the replica's as its cold clone
 * plus standby.signal and primary_conninfo.
 */
async function initialiseOnce(l: PairLayout, fast: boolean, extra: string[]): Promise<void> {
  if (existsSync(join(l.primaryDir, 'PG_VERSION'))) return
  rmSync(l.replicaDir, { recursive: true, force: true })
  const template = await initdbTemplate(l.bin, l.who)
  cpSync(template, l.primaryDir, { recursive: true })
  writeFileSync(join(l.primaryDir, 'postgresql.auto.conf'), settings(l.primaryPort, l.socketDir, fast, extra))
  cpSync(l.primaryDir, l.replicaDir, { recursive: true })
  writeFileSync(join(l.replicaDir, 'standby.signal'), '')
  writeFileSync(
    join(l.replicaDir, 'postgresql.auto.conf'),
    settings(l.replicaPort, l.socketDir, fast, extra) +
      `primary_conninfo = 'host=127.0.0.1 port=${l.primaryPort} user=${SUPERUSER} application_name=replica'\n`,
  )
  chownTree(l.primaryDir, l.who)
  chownTree(l.replicaDir, l.who)
}

/** Starts the primary (or the replica) of `l` and waits until it answers (the replica: streams). */
async function startServer(l: PairLayout, standby: boolean, reaper: Reaper): Promise<ManagedProcess> {
  const dir = standby ? l.replicaDir : l.primaryDir
  removeStaleLock(dir)
  const logFile = join(l.base, standby ? 'replica.log' : 'primary.log')
  const proc = spawnManaged(join(l.bin, 'postgres'), ['-D', dir], {
    name: standby ? 'pg-replica' : 'pg-primary',
    logFile,
    env: cleanEnv(l.base),
    ...l.who,
  })
  reaper.trackPid(proc.pid)
  try {
    await waitReady(urlFor(standby ? l.replicaPort : l.primaryPort), dir, proc, logFile, standby)
  } catch (err) {
    // Never leave a server that did not come up running behind a failed start.
    await proc.stop('SIGINT', 20_000)
    reaper.untrackPid(proc.pid)
    throw err
  }
  return proc
}

/**
 * A PostgreSQL primary and a hot-standby replica streaming from it, on 127.0.0.1. The replica is a
 * cold clone of the primary's data folder (taken before the primary's first start) plus
 * standby.signal and primary_conninfo: no pg_basebackup needed, so the npm builds suffice.
 */
export async function startPostgresPair(options: PostgresOptions = {}): Promise<PostgresPair> {
  // Free ports are picked before the servers bind them; another process (any outgoing connection
  // takes an ephemeral port) can take one meanwhile. With ports of its own choosing, start again.
  const portsOurs =
    options.primaryPort === undefined && options.replicaPort === undefined && options.dataDir === undefined
  for (let attempt = 1; ; attempt++) {
    try {
      return await startPair(options)
    } catch (err) {
      if (!portsOurs || attempt >= 3 || !/Address already in use/.test(String(err))) throw err
      log(
        `a port picked for PostgreSQL was taken meanwhile; starting again on others (attempt ${attempt + 1})`,
      )
    }
  }
}

async function startPair(options: PostgresOptions): Promise<PostgresPair> {
  const who = runAs()
  if (options.dataDir !== undefined && !reachable(options.dataDir, who)) {
    throw new Error(
      `PostgreSQL runs as uid ${who.uid}, which cannot reach ${options.dataDir} (a folder above it lacks ` +
        'search permission); choose a data folder it can reach (for npm start: STACK_DATA_DIR)',
    )
  }
  const owned = ownership(options, () => mkdtempSync(join(workRoot(who), 'tmp-pg-')))
  const l = await layOut(options, owned.dataDir, who)
  await initialiseOnce(l, options.fast ?? true, options.extraSettings ?? [])
  const started = Date.now()
  const primary = await startServer(l, false, owned.reaper).catch((err: unknown) => {
    owned.release()
    throw err
  })
  const replica = await startServer(l, true, owned.reaper).catch(async (err: unknown) => {
    await primary.stop('SIGINT')
    owned.release()
    throw err
  })
  log(
    `PostgreSQL primary :${l.primaryPort} + streaming replica :${l.replicaPort} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
  return pairControls(l, { primary, replica }, owned)
}

/** The PostgresPair controls over the two running servers (`servers` follows their restarts). */
function pairControls(
  l: PairLayout,
  servers: Record<PgServer, ManagedProcess>,
  owned: Ownership,
): PostgresPair {
  const pair: PostgresPair = {
    primaryUrl: urlFor(l.primaryPort),
    replicaUrl: urlFor(l.replicaPort),
    primaryPort: l.primaryPort,
    replicaPort: l.replicaPort,
    exited: (server) => servers[server].exited,
    pid(server) {
      const proc = servers[server]
      return proc.isRunning() ? proc.pid : undefined
    },
    async stopServer(server, how) {
      await servers[server].stop(how === 'fast' ? 'SIGINT' : 'SIGQUIT', 20_000)
    },
    async restart(server) {
      const old = servers[server]
      if (old.isRunning()) return
      owned.reaper.untrackPid(old.pid)
      servers[server] = await startServer(l, server === 'replica', owned.reaper)
    },
    async restartReplica() {
      await pair.stopServer('replica', 'fast')
      await pair.restart('replica')
    },
    async stop() {
      // SIGINT = fast shutdown: aborts sessions, checkpoints, exits cleanly.
      await servers.replica.stop('SIGINT', 20_000)
      await servers.primary.stop('SIGINT', 20_000)
      owned.reaper.untrackPid(servers.replica.pid)
      owned.reaper.untrackPid(servers.primary.pid)
      // Its own reaper removes the temp folder; a caller's reaper does so when the caller disposes it.
      owned.ownReaper?.dispose()
    },
  }
  return pair
}
