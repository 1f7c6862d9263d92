import { describe, expect, it } from 'vitest'
import { parseFlushCounters, perSend } from './flush-counters.js'

describe('readings and messages per send', () => {
  const page = (sends: number, readings: number, messages: number, prefix = 'gateway') =>
    [
      `# HELP ${prefix}_kafka_flush_readings Readings per sendBatch`,
      `${prefix}_kafka_flush_readings_bucket{le="+Inf"} ${sends}`,
      `${prefix}_kafka_flush_readings_sum ${readings}`,
      `${prefix}_kafka_flush_readings_count ${sends}`,
      `${prefix}_kafka_flush_messages_sum ${messages}`,
      `${prefix}_kafka_flush_messages_count ${sends}`,
    ].join('\n')

  it("reads the publisher's flush totals under any service prefix", () => {
    expect(parseFlushCounters(page(4, 88, 54))).toEqual({ sends: 4, readings: 88, messages: 54 })
    expect(parseFlushCounters(page(1, 2, 3, 'floor'))).toEqual({ sends: 1, readings: 2, messages: 3 })
    expect(parseFlushCounters('gateway_readings_accepted_total 5')).toBeUndefined()
  })

  it('averages over the sends between two readings, and is unknown when none was made', () => {
    const before = parseFlushCounters(page(10, 100, 50))
    expect(perSend(before, parseFlushCounters(page(30, 540, 322)))).toEqual({ readings: 22, messages: 13.6 })
    expect(perSend(before, before)).toBeUndefined()
    expect(perSend(undefined, before)).toBeUndefined()
  })
})
