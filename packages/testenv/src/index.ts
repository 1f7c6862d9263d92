import './provided.js'
export {
  startEnvironment,
  startPrivateKafka,
  parseMode,
  type Environment,
  type TestenvMode,
} from './environment.js'
export {
  startKafka,
  createTopics,
  ensureKafkaLibs,
  brokerAnswers,
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
export {
  containerRuntimeAvailable,
  dockerCleanup,
  pinnedPostgresVersion,
  startContainers,
  startKafkaInContainer,
  KAFKA_IMAGE,
  POSTGRES_IMAGE,
} from './containers.js'
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
export { Reaper, type DockerEndpoint } from './reaper.js'
export { repoRoot, cacheDir } from './paths.js'
export { prng } from './random.js'
