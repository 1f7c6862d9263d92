import { closeOnSignals, loadOrExit } from '@energy-ingest/service-kit'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'

// The only file that reads process.env, listens, or handles signals.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1'

const config = loadOrExit('gateway', () => loadConfig(process.env))
if (config.INGEST_DEV_MODE && config.INGEST_TOKEN_SECRET === '') {
  process.stderr.write('gateway: INGEST_DEV_MODE=true: device tokens use the built-in dev secret\n')
}
const app = await buildApp(config)
// Stops accepting, lets requests in flight finish, flushes the publisher, disconnects Kafka.
closeOnSignals(app, config.SHUTDOWN_GRACE_MS)
await app.listen({ host: config.HOST, port: config.PORT })
