import { closeOnSignals, loadOrExit } from '@energy-ingest/service-kit'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'

// The only file that reads process.env, listens, or handles signals (STYLE §2).
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1'

const config = loadOrExit('writer', () => loadConfig(process.env))
const writer = await buildApp(config)
// stop() finishes the batches in hand, commits their offsets and leaves the group.
closeOnSignals({ close: () => writer.stop(), log: writer.log }, config.SHUTDOWN_GRACE_MS)
try {
  await writer.start()
} catch (err) {
  writer.log.fatal({ err }, 'start failed')
  await writer.stop().catch(() => {})
  process.exit(1)
}
