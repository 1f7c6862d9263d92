// How full the publisher's sends were over a run: readings and Kafka messages per `sendBatch`, from
// the flush histograms on a gateway's (or the floor's) /metrics page, read before and after.
import { round } from './stats.js'

export interface FlushCounters {
  sends: number
  readings: number
  messages: number
}

/** The publisher's flush histograms' totals in a Prometheus text page (any service prefix). */
export function parseFlushCounters(text: string): FlushCounters | undefined {
  const value = (suffix: string) => {
    const m = new RegExp(`^\\w+_kafka_flush_${suffix} (\\S+)$`, 'm').exec(text)
    return m ? Number(m[1]) : undefined
  }
  const sends = value('readings_count')
  const readings = value('readings_sum')
  const messages = value('messages_sum')
  if (sends === undefined || readings === undefined || messages === undefined) return undefined
  return { sends, readings, messages }
}

/** Readings and messages per send between two readings of the counters. */
export function perSend(before: FlushCounters | undefined, after: FlushCounters | undefined) {
  if (!before || !after || after.sends <= before.sends) return undefined
  const sends = after.sends - before.sends
  return {
    readings: round((after.readings - before.readings) / sends, 1),
    messages: round((after.messages - before.messages) / sends, 1),
  }
}

/** The flush totals of a running publisher (gateway or floor), if its /metrics answers. */
export async function flushCounters(url: string): Promise<FlushCounters | undefined> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined)
  return res?.ok ? parseFlushCounters(await res.text()) : undefined
}
