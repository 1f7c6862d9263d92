import type { CheckResult } from '@energy-ingest/service-kit'
import type { FastifyInstance } from 'fastify'
import { Gauge } from 'prom-client'
import { assessReplica, readReplicaFacts } from '../queries/replica-status.js'

export interface ReplicaCheckOptions {
  /** Serve from a server that is not in recovery (ANALYTICS_ALLOW_PRIMARY). */
  allowPrimary: boolean
  /** Replication lag past which the service is not ready. */
  maxLagS: number
}

/**
 * The readiness check of the analytics service: the replica answers on the probe's own connection,
 * is a replica (unless allowed otherwise) and its replayed writer heartbeat is younger than
 * `maxLagS`. The lag it measures is exported as `analytics_replica_lag_seconds`.
 */
export function replicaCheck(app: FastifyInstance, opts: ReplicaCheckOptions): () => Promise<CheckResult> {
  const lagGauge = new Gauge({
    name: app.prometheus.name('replica_lag_seconds'),
    help: 'Age of the replayed writer heartbeat on the replica at the last readiness check',
    registers: [app.prometheus.registry],
  })
  return async () => {
    try {
      const facts = await readReplicaFacts(app.replicaProbe)
      const { lagS, problems } = assessReplica(facts, opts)
      if (lagS !== null) lagGauge.set(lagS)
      const details = {
        replica: facts.recovery,
        replicationLagSeconds: lagS,
        walReceiver: facts.recovery ? facts.walReceiver : null,
        problems,
      }
      return problems.length === 0
        ? { ok: true, details }
        : { ok: false, reason: problems.join('; '), details }
    } catch (err) {
      return { ok: false, reason: `database: ${(err as Error).message}` }
    }
  }
}
