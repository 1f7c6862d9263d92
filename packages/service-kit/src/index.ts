export { ConfigError, loadEnvConfig } from './config.js'
export { closeOnSignals, loadOrExit, type Closable } from './lifecycle.js'
