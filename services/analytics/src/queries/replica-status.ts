// How fresh the connected server's data is, from facts that stop moving when replication stops: the
// writer heartbeat row (updated on the primary on a timer, so the replayed beat ages as soon as nothing
// more arrives) and the WAL receiver. Comparing received and replayed WAL positions cannot tell a
// caught-up replica from one whose receiver is gone: both have replayed everything they received.
import type pg from 'pg'

export interface ReplicaFacts {
  recovery: boolean
  /** now() - the replayed writer_heartbeat.beat_at, s; null without a heartbeat row. */
  heartbeatAgeS: number | null
  /** now() - pg_last_xact_replay_timestamp(), s; null when nothing was replayed since the server started. */
  replayAgeS: number | null
  /** pg_stat_wal_receiver.status; 'none' without a receiver, 'unknown' when the role may not see it. */
  walReceiver: string
}

export async function readReplicaFacts(db: pg.Pool | pg.ClientBase): Promise<ReplicaFacts> {
  const { rows } = await db.query<{
    recovery: boolean
    heartbeat_age: number | null
    replay_age: number | null
    receiver: string | null
  }>(
    `SELECT pg_is_in_recovery() AS recovery,
            (SELECT extract(epoch FROM now() - beat_at)::float8 FROM writer_heartbeat WHERE id = 1) AS heartbeat_age,
            extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS replay_age,
            -- Without pg_read_all_stats a role sees the receiver's pid but not its status.
            (SELECT COALESCE(status, 'unknown') FROM pg_stat_wal_receiver WHERE pid IS NOT NULL) AS receiver`,
  )
  const r = rows[0]!
  return {
    recovery: r.recovery,
    heartbeatAgeS: r.heartbeat_age,
    replayAgeS: r.replay_age,
    walReceiver: r.receiver ?? 'none',
  }
}

export interface ReplicaAssessment {
  /** Seconds the data may be behind the primary; 0 on a primary; null when it cannot be told. */
  lagS: number | null
  problems: string[]
}

/**
 * The lag is the replayed heartbeat's age (at most one beat interval more than the true lag); without
 * a heartbeat row, the age of the last replayed commit (larger than the true lag when the primary is
 * idle); without either, unknown, which is not ready. Past `maxLagS` the replica is not ready, whatever
 * its WAL receiver says.
 */
export function assessReplica(
  f: ReplicaFacts,
  opts: { allowPrimary: boolean; maxLagS: number },
): ReplicaAssessment {
  if (!f.recovery) {
    return { lagS: 0, problems: opts.allowPrimary ? [] : ['connected server is not a read replica'] }
  }
  const age = f.heartbeatAgeS ?? f.replayAgeS
  // A primary clock slightly ahead of the replica's makes a fresh beat look younger than 0.
  const lagS = age === null ? null : Math.max(0, age)
  const problems: string[] = []
  const receiver = f.walReceiver === 'streaming' ? '' : `; WAL receiver: ${f.walReceiver}`
  if (lagS === null) {
    problems.push(`replication lag unknown: no writer heartbeat and nothing replayed since start${receiver}`)
  } else if (lagS > opts.maxLagS) {
    problems.push(`replication lag ${lagS.toFixed(1)} s > ${opts.maxLagS} s${receiver}`)
  }
  return { lagS, problems }
}
