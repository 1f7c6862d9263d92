import { logLevel, type LogEntry, type logCreator } from 'kafkajs'
import type { Logger } from 'pino'

const LEVELS = { [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info' } as const

/** kafkajs logs through a pino child, so broker trouble comes out as the same JSON as ours. */
export function pinoLogCreator(log: Logger): logCreator {
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, timestamp: _ts, ...extra } = entry
      const method = LEVELS[level as keyof typeof LEVELS] ?? 'debug'
      log[method]({ namespace, kafka: extra }, message)
    }
}
