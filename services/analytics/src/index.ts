export { buildApp, type App } from './app.js'
export { loadConfig, ConfigSchema, type Config } from './config.js'
