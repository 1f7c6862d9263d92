import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'

// The only file that reads process.env, listens, or handles signals (STYLE §2).
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1'

let config
try {
  config = loadConfig(process.env)
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`writer: ${err.message}\n`)
    process.exit(2)
  }
  throw err
}

const writer = await buildApp(config)
let closing = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (closing) return
    closing = true
    writer.log.info({ signal }, 'closing')
    setTimeout(() => {
      writer.log.error('shutdown deadline passed')
      process.exit(1)
    }, config.SHUTDOWN_GRACE_MS).unref()
    // Finishes the batches in hand, commits their offsets, leaves the group.
    writer.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        writer.log.error({ err }, 'stop failed')
        process.exit(1)
      },
    )
  })
}
try {
  await writer.start()
} catch (err) {
  writer.log.fatal({ err }, 'start failed')
  await writer.stop().catch(() => {})
  process.exit(1)
}
