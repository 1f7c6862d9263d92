// The parts of autocannon 8 this package uses (it ships no type declarations).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  interface RequestSpec {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string
    setupRequest?: (req: RequestSpec, context: Record<string, unknown>) => RequestSpec
  }

  interface Options {
    url: string
    connections?: number
    duration?: number
    amount?: number
    pipelining?: number
    timeout?: number
    method?: string
    headers?: Record<string, string>
    body?: string
    requests?: RequestSpec[]
    expectBody?: string
  }

  interface Histogram {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    total: number
    p50: number
    p90: number
    p97_5: number
    p99: number
  }

  interface Result {
    duration: number
    requests: Histogram & { sent: number }
    latency: Histogram
    throughput: Histogram
    errors: number
    timeouts: number
    non2xx: number
    '2xx': number
    statusCodeStats: Record<string, { count: number }>
  }

  type Instance = EventEmitter & PromiseLike<Result> & { stop(): void }

  function autocannon(options: Options): Instance
  export default autocannon
  export type { Options, Result, RequestSpec }
}
