import { describe, expect, it } from 'vitest'
import { assessReplica, type ReplicaFacts } from './replica-status.js'

const opts = { allowPrimary: false, maxLagS: 60 }
const replica = (f: Partial<ReplicaFacts>): ReplicaFacts => ({
  recovery: true,
  heartbeatAgeS: 1.5,
  replayAgeS: 0.2,
  walReceiver: 'streaming',
  ...f,
})

describe('assessReplica', () => {
  it('takes the lag from the replayed heartbeat, not from the last replayed commit', () => {
    expect(assessReplica(replica({}), opts)).toEqual({ lagS: 1.5, problems: [] })
    expect(assessReplica(replica({ heartbeatAgeS: 75, replayAgeS: 0.1 }), opts)).toEqual({
      lagS: 75,
      problems: ['replication lag 75.0 s > 60 s'],
    })
  })

  it('fails once past the limit when the WAL receiver is gone, and says so', () => {
    expect(assessReplica(replica({ walReceiver: 'none', heartbeatAgeS: 30 }), opts).problems).toEqual([])
    expect(assessReplica(replica({ walReceiver: 'none', heartbeatAgeS: 61 }), opts)).toEqual({
      lagS: 61,
      problems: ['replication lag 61.0 s > 60 s; WAL receiver: none'],
    })
  })

  it('falls back to the last replayed commit without a heartbeat row, and is unready when it knows neither', () => {
    expect(assessReplica(replica({ heartbeatAgeS: null, replayAgeS: 4 }), opts)).toEqual({
      lagS: 4,
      problems: [],
    })
    expect(assessReplica(replica({ heartbeatAgeS: null, replayAgeS: null }), opts)).toEqual({
      lagS: null,
      problems: ['replication lag unknown: no writer heartbeat and nothing replayed since start'],
    })
  })

  it('clamps a beat from a primary clock slightly ahead to 0', () => {
    expect(assessReplica(replica({ heartbeatAgeS: -0.3 }), opts).lagS).toBe(0)
  })

  it('refuses a primary unless allowed; a primary has no lag', () => {
    const primary = replica({ recovery: false, heartbeatAgeS: 500, replayAgeS: null, walReceiver: 'none' })
    expect(assessReplica(primary, opts)).toEqual({
      lagS: 0,
      problems: ['connected server is not a read replica'],
    })
    expect(assessReplica(primary, { ...opts, allowPrimary: true })).toEqual({ lagS: 0, problems: [] })
  })
})
