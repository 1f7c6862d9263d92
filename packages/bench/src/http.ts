import { Agent, request } from 'node:http'

export interface HttpResponse {
  status: number
  body: string
  ms: number
  headers: Record<string, string | string[] | undefined>
}

export interface Download {
  status: number
  bytes: number
  /** Newline bytes in the body as received (rows + header of an uncompressed CSV). */
  lines: number
  ms: number
  encoding: string | undefined
}

/** A keep-alive HTTP/1.1 client for loopback load (lighter than fetch on this hot path). */
export class HttpClient {
  private readonly agent: Agent
  private readonly base: URL

  constructor(
    baseUrl: string,
    private readonly headers: Record<string, string> = {},
    maxSockets = 64,
  ) {
    this.base = new URL(baseUrl)
    this.agent = new Agent({ keepAlive: true, maxSockets })
  }

  post(
    path: string,
    body: string,
    contentType = 'application/json',
    timeoutMs = 30_000,
  ): Promise<HttpResponse> {
    return this.send('POST', path, body, contentType, timeoutMs)
  }

  get(path: string, timeoutMs = 30_000): Promise<HttpResponse> {
    return this.send('GET', path, undefined, undefined, timeoutMs)
  }

  /**
   * A GET whose body is counted as it arrives, never held: bytes and newlines (rows of a CSV body),
   * for downloads too large to buffer as a string.
   */
  download(path: string, headers: Record<string, string> = {}, timeoutMs = 600_000): Promise<Download> {
    const t0 = performance.now()
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.base.hostname,
          port: this.base.port,
          path,
          method: 'GET',
          headers: { ...this.headers, ...headers },
          timeout: timeoutMs,
        },
        (res) => {
          let bytes = 0
          let lines = 0
          res.on('data', (c: Buffer) => {
            bytes += c.length
            for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) lines++
          })
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              bytes,
              lines,
              ms: performance.now() - t0,
              encoding: res.headers['content-encoding'],
            }),
          )
          res.on('error', reject)
        },
      )
      req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in ${timeoutMs} ms`)))
      req.on('error', reject)
      req.end()
    })
  }

  close(): void {
    this.agent.destroy()
  }

  private send(
    method: string,
    path: string,
    body: string | undefined,
    contentType: string | undefined,
    timeoutMs: number,
  ): Promise<HttpResponse> {
    const t0 = performance.now()
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...this.headers }
      if (body !== undefined) {
        headers['content-type'] = contentType ?? 'application/json'
        headers['content-length'] = Buffer.byteLength(body)
      }
      const req = request(
        {
          agent: this.agent,
          host: this.base.hostname,
          port: this.base.port,
          path,
          method,
          headers,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              ms: performance.now() - t0,
              headers: res.headers,
            }),
          )
          res.on('error', reject)
        },
      )
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)))
      req.on('error', reject)
      req.end(body)
    })
  }
}

/** Load tools here only ever talk to this machine. */
export function assertLoopback(url: string): void {
  const host = new URL(url).hostname
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) {
    throw new Error(`${url}: the benchmarks send load to loopback addresses only`)
  }
}
