import pg from 'pg'
import { eventually } from './eventually.js'

/** The same URL with another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
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
