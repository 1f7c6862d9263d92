import './provided.js'
export { startEnvironment, parseMode, type Environment, type TestenvMode } from './environment.js'
export {
  startKafka,
  createTopics,
  ensureKafkaLibs,
  kafkaVersion,
  type KafkaServer,
  type KafkaOptions,
} from './kafka.js'
export {
  startPostgresPair,
  pgBinDir,
  urlFor,
  type PgServer,
  type PostgresPair,
  type PostgresOptions,
} from './postgres.js'
export { containerRuntimeAvailable } from './containers.js'
export {
  createTestDatabase,
  testTopicPrefix,
  uniqueName,
  waitForReplica,
  withDatabase,
  type EnvironmentInfo,
  type TestDatabase,
} from './databases.js'
export { eventually, type EventuallyOptions } from './eventually.js'
export { freePort, spawnManaged, type ManagedProcess } from './process.js'
export { Reaper } from './reaper.js'
export { repoRoot, cacheDir } from './paths.js'
export { prng } from './random.js'
