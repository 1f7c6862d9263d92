import { closeOnSignals, loadOrExit } from '@energy-ingest/service-kit'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'

// The only file that reads process.env, listens, or handles signals.
const config = loadOrExit('analytics', () => loadConfig(process.env))
const app = await buildApp(config)
closeOnSignals(app, config.SHUTDOWN_GRACE_MS)
await app.listen({ host: config.HOST, port: config.PORT })
