// Replica failures on a PostgreSQL primary + replica of this file's own (the shared pair must not lose
// its WAL receiver, restart or change settings under other files): a WAL receiver that is gone, a
// restarted replica, a query cancelled by a recovery conflict. A timer on the primary plays the writer
// and its heartbeat.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '@energy-ingest/db'
import { holdTransaction, type HeldTransaction } from '@energy-ingest/db/internal'
import {
  eventually,
  startPostgresPair,
  waitForReplica,
  withDatabase,
  type PostgresPair,
} from '@energy-ingest/testenv'
import { buildApp, type App } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

const KEY = 'k'
const DB = 'energy'
const MAX_LAG_S = 2

let pair: PostgresPair
let primaryUrl: string
let replicaUrl: string
let primary: pg.Pool
let beats: ReturnType<typeof setInterval> | undefined

/** The writer's heartbeat, every 100 ms while on. */
function beating(on: boolean) {
  if (beats !== undefined) clearInterval(beats)
  beats = undefined
  if (on) {
    beats = setInterval(() => {
      primary.query('UPDATE writer_heartbeat SET beat_at = now()').catch(() => undefined)
    }, 100)
  }
}

/** Runs a statement on the replica (settings, probes) on a connection of its own. */
async function onReplica<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: replicaUrl })
  await client.connect()
  try {
    return (await client.query<T>(sql, params)).rows
  } finally {
    await client.end()
  }
}

async function oneOnReplica<T extends pg.QueryResultRow>(sql: string): Promise<T> {
  const [row] = await onReplica<T>(sql)
  if (row === undefined) throw new Error(`no row: ${sql}`)
  return row
}

async function setOnReplica(name: string, value: string) {
  await onReplica(`ALTER SYSTEM SET ${name} = '${value.replace(/'/g, "''")}'`)
  await onReplica('SELECT pg_reload_conf()')
}

function build(env: Record<string, string> = {}): Promise<App> {
  return buildApp(
    loadConfig({
      ANALYTICS_DATABASE_URL: replicaUrl,
      ANALYTICS_API_KEYS: KEY,
      ANALYTICS_MAX_REPLICA_LAG_S: String(MAX_LAG_S),
      ...env,
    }),
    { logger: false },
  )
}

/** The readiness status and the facts of its replica check. */
const ready = async (app: App) => {
  const res = await app.inject({ method: 'GET', url: '/health/ready' })
  const health = res.json() as { checks: { replica?: { details?: Record<string, unknown> } } }
  return { status: res.statusCode, body: health.checks.replica?.details ?? {} }
}

beforeAll(async () => {
  pair = await startPostgresPair({ fast: true })
  const admin = new pg.Client({ connectionString: pair.primaryUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${DB}`)
    // Nothing but this file commits on the primary (the restart test counts on it).
    await admin.query('ALTER SYSTEM SET autovacuum = off')
    await admin.query('SELECT pg_reload_conf()')
  } finally {
    await admin.end()
  }
  primaryUrl = withDatabase(pair.primaryUrl, DB)
  replicaUrl = withDatabase(pair.replicaUrl, DB)
  await migrate({ connectionString: primaryUrl })
  primary = new pg.Pool({ connectionString: primaryUrl, max: 3 })
  // pool.end() resolves once its clients are told to end, before their sockets close: a client the
  // primary's shutdown in afterAll reaches first gets its 57P01 as an error of the pool, which would
  // otherwise be an uncaught exception of this file (seen once in CI). Queries report their own errors.
  primary.on('error', () => undefined)
  await waitForReplica(pair.primaryUrl, pair.replicaUrl)
})

afterAll(async () => {
  beating(false)
  await primary?.end()
  await pair?.stop()
})

describe('replica health that cannot lie', () => {
  it('fails readiness once past the lag limit when the WAL receiver is gone, and heals when it is back', async () => {
    beating(true)
    const app = await build()
    const { primary_conninfo: conninfo } = await oneOnReplica<{ primary_conninfo: string }>(
      'SHOW primary_conninfo',
    )
    try {
      await eventually(async () => (await ready(app)).status === 200, { message: 'ready while streaming' })
      expect((await ready(app)).body.walReceiver).toBe('streaming')

      // The replica loses its primary: nothing more is received, while the writer keeps beating.
      await setOnReplica('primary_conninfo', 'host=127.0.0.1 port=1 user=postgres connect_timeout=1')
      const cut = await eventually(
        async () => {
          const r = await ready(app)
          return r.status === 503 ? r.body : undefined
        },
        { timeoutMs: 30_000, intervalMs: 200, message: 'readiness to fail past the lag limit' },
      )
      expect(cut.replicationLagSeconds).toBeGreaterThan(MAX_LAG_S)
      expect(cut.walReceiver).not.toBe('streaming')
      expect(cut.problems).toEqual([expect.stringMatching(/^replication lag .* > 2 s; WAL receiver: /)])

      await setOnReplica('primary_conninfo', conninfo)
      await eventually(async () => (await ready(app)).status === 200, {
        timeoutMs: 30_000,
        intervalMs: 200,
        message: 'readiness to heal once streaming again',
      })
    } finally {
      await setOnReplica('primary_conninfo', conninfo)
      await app.close()
      beating(false)
    }
  })

  it('reports asOf from the replayed heartbeat, never the current time, after the replica restarts', async () => {
    beating(false)
    const {
      rows: [beat],
    } = await primary.query<{ beat_at: Date }>(
      `UPDATE writer_heartbeat SET beat_at = now() - interval '5 minutes' RETURNING beat_at`,
    )
    // A restarted replica replays from its last restartpoint: make that a checkpoint after the beat,
    // so that no commit is replayed again and pg_last_xact_replay_timestamp() stays NULL.
    await primary.query('CHECKPOINT')
    await waitForReplica(pair.primaryUrl, pair.replicaUrl)
    await onReplica('CHECKPOINT')
    await pair.restartReplica()
    const { replayed } = await oneOnReplica<{ replayed: Date | null }>(
      'SELECT pg_last_xact_replay_timestamp() AS replayed',
    )
    expect(replayed).toBeNull()

    const app = await build()
    try {
      const res = await app.inject({
        method: 'GET',
        url: '/v1/analytics/fleet/summary',
        headers: { authorization: `Bearer ${KEY}` },
      })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json().asOf).toBe(beat!.beat_at.toISOString())
      // Readiness knows too: the beat is 5 minutes old.
      const r = await ready(app)
      expect(r.status).toBe(503)
      expect(r.body.replicationLagSeconds).toBeGreaterThan(299)
    } finally {
      await app.close()
    }
  })
})

describe('recovery conflicts', () => {
  it('answers 503 with Retry-After when the replica cancels a query to replay the primary', async () => {
    beating(true) // commits flush the primary's lock records to the replica
    await setOnReplica('max_standby_streaming_delay', '100ms')
    const app = await build({ ANALYTICS_STATEMENT_TIMEOUT_MS: '60000' })
    const locker = await primary.connect()
    let locking: HeldTransaction | undefined
    try {
      const { oid } = await oneOnReplica<{ oid: number }>(
        `SELECT 'meter_fleet_minutely'::regclass::oid AS oid`,
      )
      // 1. Replay holds an exclusive lock on a table the fleet summary reads after its first statement.
      locking = await holdTransaction(locker)
      await locker.query('LOCK TABLE meter_fleet_minutely IN ACCESS EXCLUSIVE MODE')
      await eventually(
        async () =>
          (
            await onReplica(
              `SELECT 1 FROM pg_locks WHERE locktype = 'relation' AND relation = $1 AND mode = 'AccessExclusiveLock'`,
              [oid],
            )
          ).length > 0,
        { timeoutMs: 20_000, message: 'the lock replayed on the replica' },
      )
      // 2. The summary has read rollup_watermarks in its snapshot and waits for that lock.
      const pending = app.inject({
        method: 'GET',
        url: '/v1/analytics/fleet/summary',
        headers: { authorization: `Bearer ${KEY}` },
      })
      await eventually(
        async () =>
          (
            await onReplica(
              `SELECT 1 FROM pg_stat_activity WHERE application_name = 'energy-analytics' AND wait_event_type = 'Lock'`,
            )
          ).length > 0,
        { timeoutMs: 20_000, message: 'the summary waiting for the replayed lock' },
      )
      // 3. Replay now needs a lock the summary holds: past max_standby_streaming_delay it cancels it.
      await locker.query('LOCK TABLE rollup_watermarks IN ACCESS EXCLUSIVE MODE')
      const res = await pending
      expect(res.statusCode, res.body).toBe(503)
      expect(res.headers['retry-after']).toBe('1')
      expect(res.json()).toMatchObject({ code: 'ANALYTICS_REPLICA_CONFLICT' })
    } finally {
      await locking?.end(false).catch(() => undefined)
      locker.release()
      await setOnReplica('max_standby_streaming_delay', '30s')
      await app.close()
      beating(false)
    }
  })
})
