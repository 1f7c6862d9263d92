import { describe, expect, it } from 'vitest'
import { clusterId, kafkaVersion } from './kafka.js'

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
