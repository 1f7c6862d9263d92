import { connect, type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { App } from '../../src/app.js'
import { FLEET, freshTopics, gateway } from './helpers.js'

const { kafkaBrokers: brokers } = inject('testenv')

/** Sends `text` on a fresh connection and never more; resolves with what came back once the server closed it. */
function sendAndWaitForClose(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' })
    let received = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (received += chunk))
    socket.on('error', reject)
    socket.on('close', () => resolve(received))
    socket.write(text)
  })
}

describe('HTTP timeouts', () => {
  let app: App
  let port: number

  beforeAll(async () => {
    const topics = await freshTopics(brokers)
    app = await gateway(brokers, topics.prefix, {
      HTTP_HEADERS_TIMEOUT_MS: '300',
      HTTP_REQUEST_TIMEOUT_MS: '600',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '5000',
      HTTP_CONNECTION_TIMEOUT_MS: '20000',
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    port = (app.server.address() as AddressInfo).port
  })
  afterAll(async () => {
    await app?.close()
  })

  it('hands the configured values to the HTTP server', () => {
    expect(app.server.headersTimeout).toBe(300)
    expect(app.server.requestTimeout).toBe(600)
    expect(app.server.keepAliveTimeout).toBe(5000)
    expect(app.server.timeout).toBe(20_000)
  })

  it('answers 408 and closes a connection whose headers never finish', async () => {
    const answer = await sendAndWaitForClose(port, 'POST /v1/ingest HTTP/1.1\r\nHost: gateway\r\n')
    expect(answer).toMatch(/^HTTP\/1\.1 408 /)
  })

  it('answers 408 and closes a connection whose body never finishes', async () => {
    const head = [
      'POST /v1/ingest/batch HTTP/1.1',
      'Host: gateway',
      `Authorization: Bearer ${FLEET}`,
      'Content-Type: application/json',
      'Content-Length: 1000',
      '',
      '',
    ].join('\r\n')
    const answer = await sendAndWaitForClose(port, `${head}[{"meterId":`)
    expect(answer).toMatch(/^HTTP\/1\.1 408 /)
  })
})
