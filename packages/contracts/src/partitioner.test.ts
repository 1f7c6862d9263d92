import { Partitioners } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { partitionForKey } from './partitioner.js'

describe('partitionForKey', () => {
  // kafkajs' DefaultPartitioner is the Java client's algorithm; both must pick the same partition.
  const kafkajs = Partitioners.DefaultPartitioner()
  const keys = [
    'V1',
    'METER-001',
    '',
    'a',
    'ab',
    'abc',
    'abcd',
    'vehicle:000042',
    'ünïcødé-ID',
    'x'.repeat(64),
  ]
  for (let i = 0; i < 500; i++) keys.push(`dev-${i * 7919}`)

  it.each([1, 3, 12, 64])('agrees with kafkajs for %i partitions', (n) => {
    const partitionMetadata = Array.from({ length: n }, (_, partitionId) => ({
      partitionId,
      leader: 1,
      replicas: [1],
      isr: [1],
      partitionErrorCode: 0,
    }))
    for (const key of keys) {
      const expected = kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } })
      expect(partitionForKey(key, n), key).toBe(expected)
    }
  })
})
