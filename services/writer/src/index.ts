export { buildApp, type Writer } from './app.js'
export { loadConfig, ConfigSchema, ConfigError, type Config } from './config.js'
export { decodeBatch, type WriterDeadLetter } from './decode.js'
export { WriterErrorCode } from './errors.js'
