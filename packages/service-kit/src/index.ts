export { ConfigError, isSecretVariable, loadEnvConfig, redactUrlCredentials } from './config.js'
export { Int, brokerList, httpFields, kafkaFields, postgresUrlField, processFields } from './config-fields.js'
export { closeOnSignals, loadOrExit, type Closable } from './lifecycle.js'
export {
  defineErrors,
  describeIssues,
  validationIssues,
  withIssues,
  type ClientError,
  type ErrorIssue,
  type ErrorSpec,
} from './errors.js'
export {
  default as errorHandler,
  errorReply,
  type ErrorHandlerOptions,
  type ErrorPolicy,
  type ErrorReply,
  type RequestFacts,
} from './error-handler.js'
export { default as metrics, createPrometheus, type MetricsOptions, type Prometheus } from './metrics.js'
export {
  default as health,
  HealthSchema,
  readiness,
  type CheckResult,
  type Health,
  type HealthOptions,
  type ReadinessCheck,
} from './health.js'
export { KAFKA_LOG_LEVELS, kafkaLogCreator, type BridgeLogger } from './kafka-log.js'
export {
  default as openapi,
  ErrorRef,
  Ref,
  errorResponses,
  missingOperationFields,
  type OpenApiOptions,
} from './openapi.js'
export { default as validation } from './validation.js'
