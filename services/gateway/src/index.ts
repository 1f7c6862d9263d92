export { buildApp, loggerOptions, type App } from './app.js'
export { ConfigError, ConfigSchema, DEV_TOKEN_SECRET, loadConfig, type Config } from './config.js'
export { TokenVerifier, deviceToken } from './auth/tokens.js'
