import { closeOnSignals, loadOrExit } from '@energy-ingest/service-kit'
import { createWriter } from './writer.js'
import { loadConfig } from './config.js'

// The only file that reads process.env, listens, or handles signals.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1'

const config = loadOrExit('writer', () => loadConfig(process.env))
let exiting = false
const writer = await createWriter(config, {
  // A consumer kafkajs will not restart leaves a process that answers /health/live and consumes
  // nothing: exit 1 instead, after closing what closes within the grace period, so that the
  // supervisor starts a fresh writer (its partitions are redelivered from the committed offsets).
  onFatal: (err) => {
    if (exiting) return
    exiting = true
    writer.log.fatal({ err }, 'the consumer stopped for good; exiting 1')
    setTimeout(() => process.exit(1), config.SHUTDOWN_GRACE_MS).unref()
    void writer
      .stop()
      .catch(() => {})
      .finally(() => process.exit(1))
  },
})
// stop() finishes the batches in hand, commits their offsets and leaves the group.
closeOnSignals({ close: () => writer.stop(), log: writer.log }, config.SHUTDOWN_GRACE_MS)
try {
  await writer.start()
} catch (err) {
  writer.log.fatal({ err }, 'start failed')
  await writer.stop().catch(() => {})
  process.exit(1)
}
