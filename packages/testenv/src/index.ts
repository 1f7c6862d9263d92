import './provided.js'
// Everything that starts and supervises processes (Kafka, PostgreSQL, the reaper, ports, polling) is
// @energy-ingest/localstack's; tests get it through this package too, with what only tests need.
export * from '@energy-ingest/localstack'
export {
  startEnvironment,
  startPrivateKafka,
  parseMode,
  type Environment,
  type TestenvMode,
} from './environment.js'
export {
  containerRuntimeAvailable,
  dockerCleanup,
  startContainers,
  startKafkaInContainer,
  KAFKA_IMAGE,
  POSTGRES_IMAGE,
} from './containers.js'
export {
  createTestDatabase,
  testTopicPrefix,
  uniqueName,
  type EnvironmentInfo,
  type TestDatabase,
} from './databases.js'
export {
  assertStoredExactly,
  closeAllHours,
  expectStoredExactly,
  rollupDifferences,
  type CloseHours,
} from './storage-checks.js'
export { TopicReader, type Received } from './topic-reader.js'
