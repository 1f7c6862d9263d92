import { describe, expect, it } from 'vitest'
import { clusterId, kafkaVersion, withProperties } from './kafka.js'
import { clusterOverrides } from './kafka-cluster.js'

describe('clusterId', () => {
  it('is a 22-character base64url UUID that never starts with "-" (the storage tool would read an option)', () => {
    for (let i = 0; i < 5000; i++) {
      const id = clusterId()
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/)
    }
  })
})

describe('kafkaVersion', () => {
  it('reads the broker version the pom resolves', () => {
    expect(kafkaVersion()).toMatch(/^\d+\.\d+\.\d+$/)
  })
})

describe('withProperties', () => {
  it('replaces the lines of the keys given, keeps the others, appends the missing ones', () => {
    const text = '# comment\nnode.id=1\nmin.insync.replicas=1\nlog.dirs=/x\n'
    expect(
      withProperties(text, {
        'min.insync.replicas': '2',
        'node.id': '3',
        'broker.session.timeout.ms': '3000',
      }),
    ).toBe('# comment\nnode.id=3\nmin.insync.replicas=2\nlog.dirs=/x\nbroker.session.timeout.ms=3000\n')
  })

  it('does not touch a key that only starts like an overridden one', () => {
    expect(withProperties('min.insync.replicas.x=1\n', { 'min.insync.replicas': '2' })).toBe(
      'min.insync.replicas.x=1\nmin.insync.replicas=2\n',
    )
  })
})

describe('clusterOverrides', () => {
  it('gives every internal topic 3 copies and 2 in sync, and the quorum its three voters', () => {
    const o = clusterOverrides('1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3')
    expect(o['controller.quorum.voters']).toBe('1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3')
    expect(o['offsets.topic.replication.factor']).toBe('3')
    expect(o['transaction.state.log.min.isr']).toBe('2')
    expect(o['min.insync.replicas']).toBe('2')
  })
})
