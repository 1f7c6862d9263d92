import { logLevel } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { kafkaLogCreator, type BridgeLogger } from './kafka-log.js'

describe('kafkaLogCreator', () => {
  it('writes kafkajs entries one level lower, under namespace and kafka keys', () => {
    const lines: [string, object, string | undefined][] = []
    const at = (level: string) => (obj: object, msg?: string) => lines.push([level, obj, msg])
    const log: BridgeLogger = { warn: at('warn'), info: at('info'), debug: at('debug') }
    const write = kafkaLogCreator(log)(logLevel.INFO)
    const entry = (level: logLevel, message: string) => ({
      namespace: 'Connection',
      level,
      label: 'x',
      log: { message, timestamp: 't', broker: 'b:1' },
    })
    write(entry(logLevel.ERROR, 'refused'))
    write(entry(logLevel.WARN, 'slow'))
    write(entry(logLevel.INFO, 'hello'))
    write(entry(logLevel.DEBUG, 'noise'))
    expect(lines).toEqual([
      ['warn', { namespace: 'Connection', kafka: { broker: 'b:1' } }, 'refused'],
      ['info', { namespace: 'Connection', kafka: { broker: 'b:1' } }, 'slow'],
      ['debug', { namespace: 'Connection', kafka: { broker: 'b:1' } }, 'hello'],
      ['debug', { namespace: 'Connection', kafka: { broker: 'b:1' } }, 'noise'],
    ])
  })
})
