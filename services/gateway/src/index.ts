export { buildApp, kafkaOptions, loggerOptions, publisherOptions, type App } from './app.js'
// The gateway's Kafka path on its own (the gateway bench's floor composes it behind a bare route).
export { default as gatewayMetrics } from './plugins/metrics.js'
export { default as kafka } from './plugins/kafka.js'
export { default as publisher } from './plugins/publisher.js'
export type { OutRecord } from './publish/pack.js'
export { ConfigError, ConfigSchema, DEV_TOKEN_SECRET, loadConfig, type Config } from './config.js'
export { TokenVerifier, deviceToken } from './auth/tokens.js'
