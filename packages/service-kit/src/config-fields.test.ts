import { Type } from '@sinclair/typebox'
import { describe, expect, it } from 'vitest'
import { loadEnvConfig } from './config.js'
import { brokerList, httpFields, kafkaFields, postgresUrlField, processFields } from './config-fields.js'

const Schema = Type.Object({
  ...httpFields({ port: 3002, portName: 'WRITER_PORT' }),
  ...processFields({ shutdownGraceMs: 30_000 }),
  ...kafkaFields({ clientId: 'svc', connectionTimeoutMs: 1000, requestTimeoutMs: 3000 }),
  DATABASE_URL: postgresUrlField('the primary'),
})

describe('common config fields', () => {
  it('compose into one schema with their defaults', () => {
    const config = loadEnvConfig(Schema, { DATABASE_URL: 'postgres://x@y/z', WRITER_PORT: '0' })
    expect(config).toMatchObject({
      HOST: '0.0.0.0',
      WRITER_PORT: 0,
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: 30_000,
      KAFKA_CLIENT_ID: 'svc',
      KAFKA_TOPIC_PREFIX: '',
      KAFKA_CONNECTION_TIMEOUT_MS: 1000,
      KAFKA_REQUEST_TIMEOUT_MS: 3000,
    })
    expect(brokerList(config.KAFKA_BROKERS)).toEqual(['127.0.0.1:9092'])
  })

  it('refuse a bad level, broker list or database URL', () => {
    expect(() =>
      loadEnvConfig(Schema, { DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', KAFKA_BROKERS: 'a:1,,b:2' }),
    ).toThrow(/LOG_LEVEL[\s\S]*KAFKA_BROKERS[\s\S]*DATABASE_URL|DATABASE_URL[\s\S]*LOG_LEVEL/)
  })
})
