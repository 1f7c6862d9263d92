import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { eventually } from './eventually.js'

export interface EnvironmentInfo {
  /** Which strategy started the environment (TESTENV). */
  mode: 'containers' | 'local'
  kafkaBrokers: string[]
  primaryUrl: string
  replicaUrl: string
  /** A migrated database that test databases are cloned from. */
  templateDatabase: string
}

export interface TestDatabase {
  name: string
  url: string
  replicaUrl: string
  drop(): Promise<void>
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/** Unique, short, lower-case: safe as a database, topic or group name part. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`
}

/** A per-test-file topic prefix, for topicNames(prefix) from contracts. */
export function testTopicPrefix(): string {
  return `${uniqueName('t')}.`
}

/** Waits until the replica has replayed everything the primary has written so far. */
export async function waitForReplica(
  primaryUrl: string,
  replicaUrl: string,
  timeoutMs = 15_000,
): Promise<void> {
  const primary = new pg.Client({ connectionString: primaryUrl })
  await primary.connect()
  let lsn: string
  try {
    const { rows } = await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')
    lsn = rows[0]!.lsn
  } finally {
    await primary.end()
  }
  const replica = new pg.Client({ connectionString: replicaUrl })
  await replica.connect()
  try {
    await eventually(
      async () => {
        const { rows } = await replica.query<{ done: boolean }>(
          'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done',
          [lsn],
        )
        return rows[0]?.done === true
      },
      { timeoutMs, intervalMs: 20, message: `replica replay of ${lsn}` },
    )
  } finally {
    await replica.end()
  }
}

/** A fresh database cloned from the migrated template, visible on the replica when this resolves. */
export async function createTestDatabase(env: EnvironmentInfo): Promise<TestDatabase> {
  const name = uniqueName('test')
  const admin = new pg.Client({ connectionString: env.primaryUrl })
  await admin.connect()
  try {
    // Two files cloning the template at once can collide on its lock (55006): retry briefly.
    await eventually(
      async () => {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${env.templateDatabase}`)
        return true
      },
      { timeoutMs: 30_000, intervalMs: 200, message: `CREATE DATABASE ${name}` },
    )
  } finally {
    await admin.end()
  }
  const url = withDatabase(env.primaryUrl, name)
  const replicaUrl = withDatabase(env.replicaUrl, name)
  await waitForReplica(env.primaryUrl, env.replicaUrl)
  return {
    name,
    url,
    replicaUrl,
    async drop() {
      const client = new pg.Client({ connectionString: env.primaryUrl })
      await client.connect()
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await client.end()
      }
    },
  }
}
