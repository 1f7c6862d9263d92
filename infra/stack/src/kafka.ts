import { join } from 'node:path'
import {
  startKafka,
  startKafkaCluster,
  type KafkaServer,
  type Reaper,
  type TopicOptions,
} from '@energy-ingest/localstack'
import type { StackConfig } from './config.js'

/** The stack's Kafka: its nodes (each supervised on its own), the client list and topic settings. */
export interface StackKafka {
  nodes: { name: string; server: KafkaServer; logFile: string }[]
  brokers: string[]
  topicOptions: TopicOptions
  stop(): Promise<void>
}

/**
 * One broker in `<data>/kafka` (ports STACK_KAFKA_PORT / STACK_KAFKA_CONTROLLER_PORT), or three nodes in
 * `<data>/kafka-3/node-N` on those ports + 2 × (N - 1): a separate folder, so switching keeps both.
 */
export async function startStackKafka(config: StackConfig, reaper: Reaper): Promise<StackKafka> {
  if (config.brokers === 1) {
    const server = await startKafka({
      dataDir: join(config.dataDir, 'kafka'),
      port: config.kafkaPort,
      controllerPort: config.kafkaControllerPort,
      partitions: config.partitions,
      reaper,
    })
    return {
      nodes: [{ name: 'kafka', server, logFile: join(server.dataDir, 'kafka.log') }],
      brokers: server.brokers,
      topicOptions: { replicationFactor: 1 },
      stop: () => server.stop(),
    }
  }
  const cluster = await startKafkaCluster({
    nodes: 3,
    dataDir: join(config.dataDir, 'kafka-3'),
    ports: [0, 1, 2].map((i) => config.kafkaPort + 2 * i),
    controllerPorts: [0, 1, 2].map((i) => config.kafkaControllerPort + 2 * i),
    partitions: config.partitions,
    reaper,
  })
  return {
    nodes: cluster.nodes.map((server, i) => ({
      name: `kafka-${i + 1}`,
      server,
      logFile: join(server.dataDir, 'kafka.log'),
    })),
    brokers: cluster.brokers,
    topicOptions: {
      replicationFactor: cluster.replicationFactor,
      minInsyncReplicas: cluster.minInsyncReplicas,
    },
    stop: () => cluster.stop(),
  }
}
