import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'

// The only file that reads process.env, listens, or handles signals (STYLE §2).
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1'

let config
try {
  config = loadConfig(process.env)
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`gateway: ${err.message}\n`)
    process.exit(2)
  }
  throw err
}
if (config.INGEST_DEV_MODE && config.INGEST_TOKEN_SECRET === '') {
  process.stderr.write('gateway: INGEST_DEV_MODE=true: device tokens use the built-in dev secret\n')
}

const app = await buildApp(config)
let closing = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'closing')
    setTimeout(() => {
      app.log.error('shutdown deadline passed')
      process.exit(1)
    }, config.SHUTDOWN_GRACE_MS).unref()
    // Stops accepting, lets requests in flight finish, flushes the publisher, disconnects Kafka.
    // A keep-alive connection whose request was in flight turns idle only after close() began, and
    // would otherwise hold the server open until its keep-alive timeout: close those as they go idle.
    setInterval(() => app.server.closeIdleConnections(), 100).unref()
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'close failed')
        process.exit(1)
      },
    )
  })
}
await app.listen({ host: config.HOST, port: config.PORT })
