import {
  GenericContainer,
  Network,
  Wait,
  getContainerRuntimeClient,
  type StartedTestContainer,
} from 'testcontainers'
import { freePort, log } from './process.js'
import { urlFor } from './postgres.js'

export const POSTGRES_IMAGE = 'postgres:18'
export const KAFKA_IMAGE = 'apache/kafka:4.1.1'

/**
 * True when a container runtime answers within `timeoutMs`. testcontainers fails fast without a
 * Docker socket but can hang forever on a socket that accepts and never answers: hence the deadline.
 */
export async function containerRuntimeAvailable(timeoutMs = 10_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs)
  })
  try {
    return await Promise.race([getContainerRuntimeClient().then(() => true), deadline])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}

export interface ContainerInfra {
  kafkaBrokers: string[]
  primaryUrl: string
  replicaUrl: string
  stop(): Promise<void>
}

const replicationHba = `#!/bin/sh
echo "host replication all all trust" >> "$PGDATA/pg_hba.conf"
`

/**
 * The same topology from containers: PostgreSQL primary + a pg_basebackup streaming replica on one
 * network, and an apache/kafka KRaft broker. Written for machines with a Docker engine; the machine
 * this project is developed on has none, so this path is type-checked here but exercised elsewhere.
 */
export async function startContainers(): Promise<ContainerInfra> {
  const network = await new Network().start()
  const started: StartedTestContainer[] = []
  try {
    const primary = await new GenericContainer(POSTGRES_IMAGE)
      .withNetwork(network)
      .withNetworkAliases('pg-primary')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust', POSTGRES_USER: 'postgres' })
      .withCopyContentToContainer([
        { content: replicationHba, target: '/docker-entrypoint-initdb.d/10-replication.sh' },
      ])
      .withCommand(['postgres', '-c', 'wal_level=replica', '-c', 'max_wal_senders=10', '-c', 'fsync=off'])
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start()
    started.push(primary)
    const replica = await new GenericContainer(POSTGRES_IMAGE)
      .withNetwork(network)
      .withUser('postgres')
      .withEntrypoint(['bash', '-c'])
      .withCommand([
        'until pg_basebackup -h pg-primary -U postgres -D /tmp/replica -R -X stream -c fast; do sleep 1; done; ' +
          'chmod 700 /tmp/replica; exec postgres -D /tmp/replica -c hot_standby=on',
      ])
      .withExposedPorts(5432)
      .withWaitStrategy(
        Wait.forLogMessage(/started streaming WAL|database system is ready to accept read-only connections/),
      )
      .start()
    started.push(replica)
    // Kafka must advertise the host-side port, so bind a fixed free one.
    const kafkaPort = await freePort()
    const kafka = await new GenericContainer(KAFKA_IMAGE)
      .withExposedPorts({ container: 9092, host: kafkaPort })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .start()
    started.push(kafka)
    log('containers ready: PostgreSQL primary + replica, Kafka')
    return {
      kafkaBrokers: [`127.0.0.1:${kafkaPort}`],
      primaryUrl: urlFor(primary.getMappedPort(5432)).replace('127.0.0.1', primary.getHost()),
      replicaUrl: urlFor(replica.getMappedPort(5432)).replace('127.0.0.1', replica.getHost()),
      async stop() {
        for (const c of started.reverse()) await c.stop()
        await network.stop()
      },
    }
  } catch (err) {
    for (const c of started.reverse()) await c.stop().catch(() => undefined)
    await network.stop().catch(() => undefined)
    throw err
  }
}
