import { mkdirSync, mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { DEFAULT_PARTITIONS } from '@energy-ingest/contracts'
import { eventually } from './eventually.js'
import { clusterId, ensureKafkaLibs, probeAdmin, startKafkaNode, type KafkaServer } from './kafka.js'
import { cacheDir } from './paths.js'
import { freePort, log } from './process.js'
import { ownership, type Ownership, type Reaper } from './reaper.js'

export interface KafkaClusterOptions {
  /** Nodes: 1 (a single broker, as startKafka) or 3 (a 3-voter quorum, replication factor 3). */
  nodes?: 1 | 3
  /** Keep data here across runs (node-1, node-2, … inside); default: a temp folder removed on close. */
  dataDir?: string
  /** Broker ports, one per node; default: free ports. Controller ports likewise. */
  ports?: number[]
  controllerPorts?: number[]
  partitions?: number
  reaper?: Reaper
}

export interface KafkaCluster {
  /** Every node's address: give clients all of them, so any one may be down. */
  readonly brokers: string[]
  readonly nodes: KafkaServer[]
  /** Replication factor and min.insync.replicas for topics on this cluster. */
  readonly replicationFactor: number
  readonly minInsyncReplicas: number
  /** Stops every node (graceful), keeping the data. */
  stop(): Promise<void>
  /** Stops for good and removes what the cluster created (its temp data folder). */
  close(): Promise<void>
}

/**
 * Settings of a node in a 3-node cluster. Internal topics get 3 copies and need 2 in sync, like the
 * data topics. A killed broker is fenced (and dropped from every ISR, so acks=-1 goes on with the two
 * others) after broker.session.timeout.ms: 3 s instead of 9, so producers stall briefly.
 */
export function clusterOverrides(voters: string): Record<string, string> {
  return {
    'controller.quorum.voters': voters,
    'default.replication.factor': '3',
    'min.insync.replicas': '2',
    'offsets.topic.replication.factor': '3',
    'transaction.state.log.replication.factor': '3',
    'transaction.state.log.min.isr': '2',
    'share.coordinator.state.topic.replication.factor': '3',
    'share.coordinator.state.topic.min.isr': '2',
    'broker.heartbeat.interval.ms': '500',
    'broker.session.timeout.ms': '3000',
  }
}

/** Whether every node of `brokers` is registered with the cluster (a metadata answer lists it). */
const allRegistered = (brokers: string[]) =>
  probeAdmin(brokers, async (admin) => (await admin.describeCluster()).brokers.length === brokers.length)

/** `count` ports: the given ones (which must be `count`), else free ones. */
async function portsFor(count: number, given: number[] | undefined, what: string): Promise<number[]> {
  const ports = given ?? (await Promise.all(Array.from({ length: count }, () => freePort())))
  if (ports.length !== count) throw new Error(`a ${count}-node cluster needs ${count} ${what} ports`)
  return ports
}

/** The cluster's nodes, each formatted and configured but not started. */
async function prepareNodes(
  libs: string,
  options: KafkaClusterOptions,
  count: number,
  owned: Ownership,
): Promise<KafkaServer[]> {
  mkdirSync(owned.dataDir, { recursive: true })
  const ports = await portsFor(count, options.ports, 'broker')
  const controllerPorts = await portsFor(count, options.controllerPorts, 'controller')
  const voters = controllerPorts.map((p, i) => `${i + 1}@127.0.0.1:${p}`).join(',')
  const id = clusterId()
  return await Promise.all(
    ports.map((port, i) =>
      startKafkaNode(
        libs,
        {
          nodeId: i + 1,
          port,
          controllerPort: controllerPorts[i]!,
          dataDir: join(owned.dataDir, `node-${i + 1}`),
          partitions: options.partitions ?? DEFAULT_PARTITIONS,
          overrides: count === 1 ? { 'controller.quorum.voters': voters } : clusterOverrides(voters),
          clusterId: id,
          reaper: owned.reaper,
        },
        // Three JVMs starting at once on a small machine: twice a single broker's deadline.
        { name: `kafka-${i + 1}`, startNow: false, startTimeoutMs: 180_000 },
      ),
    ),
  )
}

/** Starts every node at once (a node's broker waits for a quorum of controllers before it answers). */
async function startNodes(nodes: KafkaServer[], brokers: string[]): Promise<void> {
  const started = Date.now()
  await Promise.all(nodes.map((n) => n.start()))
  await eventually(() => allRegistered(brokers), {
    timeoutMs: 60_000,
    intervalMs: 250,
    message: `${nodes.length} brokers registered`,
  })
  log(
    `Kafka cluster of ${nodes.length} ready on ${brokers.join(',')} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
}

/**
 * A KRaft Kafka of one node, or of three combined broker + controller nodes (a 3-voter quorum: any one
 * may die) on 127.0.0.1, each its own process with the single broker's JVM flags.
 */
export async function startKafkaCluster(options: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  const count = options.nodes ?? 3
  const libs = await ensureKafkaLibs()
  const owned = ownership(options, () => mkdtempSync(join(cacheDir, 'tmp-kafka-cluster-')))
  const nodes = await prepareNodes(libs, options, count, owned)
  const brokers = nodes.flatMap((n) => n.brokers)
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()))
  }
  try {
    await startNodes(nodes, brokers)
  } catch (err) {
    await stop()
    throw err
  }
  return {
    brokers,
    nodes,
    replicationFactor: count === 1 ? 1 : 3,
    minInsyncReplicas: count === 1 ? 1 : 2,
    stop,
    async close() {
      await stop()
      owned.release()
    },
  }
}

/** Leader and in-sync replicas (node ids) of every partition of `topics`, as the cluster reports them. */
export async function partitionReplicas(
  brokers: string[],
  topics: string[],
): Promise<{ topic: string; partition: number; leader: number; isr: number[] }[]> {
  const admin = new Kafka({ clientId: 'localstack-probe', brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const { topics: meta } = await admin.fetchTopicMetadata({ topics })
    return meta.flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId, leader: p.leader, isr: p.isr })),
    )
  } finally {
    await admin.disconnect()
  }
}
