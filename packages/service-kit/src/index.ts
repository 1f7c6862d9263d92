export { ConfigError, isSecretVariable, loadEnvConfig, redactUrlCredentials } from './config.js'
export { closeOnSignals, loadOrExit, type Closable } from './lifecycle.js'
