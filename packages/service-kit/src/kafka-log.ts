import { logLevel, type LogEntry, type logCreator } from 'kafkajs'

type LogMethod = (obj: object, msg?: string) => void

/** The pino methods the bridge writes to (a pino logger, a child, or Fastify's `app.log`). */
export interface BridgeLogger {
  warn: LogMethod
  info: LogMethod
  debug: LogMethod
}

/**
 * kafkajs logs every failed connection attempt as an error; the services report a broker outage
 * themselves (readiness, one warning per state change, a 503 or a retried batch), so its lines
 * come out one level lower than kafkajs says.
 */
export const KAFKA_LOG_LEVELS = {
  [logLevel.ERROR]: 'warn',
  [logLevel.WARN]: 'info',
  [logLevel.INFO]: 'debug',
} as const satisfies Partial<Record<logLevel, keyof BridgeLogger>>

/** kafkajs's `logCreator` writing through pino, so broker logs come out as the same JSON as ours. */
export function kafkaLogCreator(log: BridgeLogger): logCreator {
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, timestamp: _ts, ...extra } = entry
      const method = KAFKA_LOG_LEVELS[level as keyof typeof KAFKA_LOG_LEVELS] ?? 'debug'
      log[method]({ namespace, kafka: extra }, message)
    }
}
