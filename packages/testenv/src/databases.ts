import { randomBytes } from 'node:crypto'
import { eventually, waitForReplica, withDatabase } from '@energy-ingest/localstack'
import pg from 'pg'

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

/** Unique, short, lower-case: safe as a database, topic or group name part. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`
}

/** A per-test-file topic prefix, for topicNames(prefix) from contracts. */
export function testTopicPrefix(): string {
  return `${uniqueName('t')}.`
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
