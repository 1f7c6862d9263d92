import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_PARTITIONS } from '@energy-ingest/contracts'
import { writePrivateFile } from './private-file.js'

export interface StackConfig {
  dataDir: string
  writers: number
  /** Kafka nodes: 1 (one broker) or 3 (a KRaft quorum of three; topics replicated 3x, min ISR 2). */
  brokers: 1 | 3
  partitions: number
  topicPrefix: string
  pgPrimaryPort: number
  pgReplicaPort: number
  kafkaPort: number
  kafkaControllerPort: number
  gatewayPort: number
  analyticsPort: number
  writerBasePort: number
  database: string
  secrets: { tokenSecret: string; fleetToken: string; analyticsKey: string }
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1, max = 65_535): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max} (got "${raw}")`)
  }
  return value
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`)
  if (i >= 0) return args[i + 1]
  return args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
}

/**
 * Dev secrets are generated once and kept in .data/secrets.json so device tokens and keys stay valid
 * across restarts; values given in the environment win.
 */
function loadSecrets(dataDir: string, env: NodeJS.ProcessEnv): StackConfig['secrets'] {
  const file = join(dataDir, 'secrets.json')
  const stored = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<StackConfig['secrets']>)
    : {}
  const secrets = {
    tokenSecret: env.INGEST_TOKEN_SECRET ?? stored.tokenSecret ?? randomBytes(32).toString('base64url'),
    fleetToken:
      env.INGEST_FLEET_TOKENS?.split(',')[0] ??
      stored.fleetToken ??
      `fleet-${randomBytes(18).toString('base64url')}`,
    analyticsKey:
      env.ANALYTICS_API_KEYS?.split(',')[0] ??
      stored.analyticsKey ??
      `analyst-${randomBytes(18).toString('base64url')}`,
  }
  writePrivateFile(file, JSON.stringify(secrets, null, 2))
  return secrets
}

/** Settings from the environment (and `--writers N`, `--partitions N`, `--brokers 1|3`), validated once. */
export function loadStackConfig(args: string[], env: NodeJS.ProcessEnv, dataDir: string): StackConfig {
  const writersArg = flag(args, 'writers')
  const partitionsArg = flag(args, 'partitions')
  const brokersArg = flag(args, 'brokers')
  const merged = {
    ...env,
    ...(writersArg !== undefined ? { STACK_WRITERS: writersArg } : {}),
    ...(partitionsArg !== undefined ? { KAFKA_PARTITIONS: partitionsArg } : {}),
    ...(brokersArg !== undefined ? { STACK_BROKERS: brokersArg } : {}),
  }
  const partitions = int(merged, 'KAFKA_PARTITIONS', DEFAULT_PARTITIONS, 1, 1000)
  const writers = int(merged, 'STACK_WRITERS', 1, 1, 64)
  const brokers = int(merged, 'STACK_BROKERS', 1, 1, 3)
  if (brokers === 2) throw new Error('STACK_BROKERS must be 1 or 3 (a KRaft quorum of two survives no loss)')
  return {
    dataDir,
    writers,
    brokers: brokers === 3 ? 3 : 1,
    partitions,
    topicPrefix: env.KAFKA_TOPIC_PREFIX ?? '',
    pgPrimaryPort: int(env, 'STACK_PG_PRIMARY_PORT', 55440),
    pgReplicaPort: int(env, 'STACK_PG_REPLICA_PORT', 55441),
    kafkaPort: int(env, 'STACK_KAFKA_PORT', 59092),
    kafkaControllerPort: int(env, 'STACK_KAFKA_CONTROLLER_PORT', 59093),
    gatewayPort: int(env, 'GATEWAY_PORT', 3000),
    analyticsPort: int(env, 'ANALYTICS_PORT', 3001),
    writerBasePort: int(env, 'WRITER_PORT', 3002),
    database: env.STACK_DATABASE ?? 'energy',
    secrets: loadSecrets(dataDir, env),
  }
}
