export {
  startKafka,
  startKafkaNode,
  ensureKafkaLibs,
  brokerAnswers,
  kafkaVersion,
  clusterId,
  withProperties,
  type KafkaServer,
  type KafkaJit,
  type KafkaOptions,
  type NodeSpec,
} from './kafka.js'
export { createTopics, type TopicOptions } from './kafka-topics.js'
export {
  startKafkaCluster,
  clusterOverrides,
  partitionReplicas,
  type KafkaCluster,
  type KafkaClusterOptions,
} from './kafka-cluster.js'
export {
  startPostgresPair,
  urlFor,
  type PgServer,
  type PostgresPair,
  type PostgresOptions,
} from './postgres.js'
export { pgBinDir, pinnedPostgresVersion } from './pg-binaries.js'
export { waitForReplica, withDatabase } from './pg-urls.js'
export { eventually, type EventuallyOptions } from './eventually.js'
export { freePort, spawnManaged, type ManagedProcess } from './process.js'
export { Reaper, type CleanupHook } from './reaper.js'
export { repoRoot, cacheDir, localstackRoot } from './paths.js'
export { prng } from './random.js'
