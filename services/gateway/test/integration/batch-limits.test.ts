import { Agent, request, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { App } from '../../src/app.js'
import { batchBodyLimitBytes } from '../../src/body/batch-parsers.js'
import { TopicReader, fleetAuth, freshTopics, gateway, meterReading } from './helpers.js'

const { kafkaBrokers: brokers } = inject('testenv')

const MiB = 1024 * 1024
const JUNK_LINES = 2 * MiB // "x\n" each: a 4 MiB body
const ndjson = { ...fleetAuth, 'content-type': 'application/x-ndjson' }
const json = { ...fleetAuth, 'content-type': 'application/json' }

interface Answer {
  status: number
  body: string
}

function readAnswer(res: IncomingMessage): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let body = ''
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => (body += chunk))
    res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    res.on('error', reject)
  })
}

describe('batch limits', () => {
  let app: App
  let topics: Awaited<ReturnType<typeof freshTopics>>

  beforeAll(async () => {
    topics = await freshTopics(brokers)
    app = await gateway(brokers, topics.prefix)
  })
  afterAll(async () => {
    await app?.close()
  })

  const post = (headers: Record<string, string>, payload: string | Buffer) =>
    app.inject({ method: 'POST', url: '/v1/ingest/batch', headers, payload })

  it('sizes the body limit from the item count and the per-item bound', () => {
    expect(batchBodyLimitBytes({ maxItems: 5000, maxItemBytes: 1024 })).toBe(5000 * 1025 + 64 * 1024)
  })

  it('refuses 2 M junk NDJSON lines at the tenth, naming the lines', async () => {
    const res = await post(ndjson, 'x\n'.repeat(JUNK_LINES))
    expect(res.statusCode, res.body).toBe(400)
    const body = res.json<{ code: string; message: string; details: { field: string; reason: string }[] }>()
    expect(body.code).toBe('INGEST_BATCH_MALFORMED')
    expect(body.message).toContain('line 1: not valid JSON')
    expect(body.details.map((d) => d.field)).toEqual(Array.from({ length: 10 }, (_, i) => `body/${i}`))
    expect(body.details[9]!.reason).toMatch(/^line 10: /)
  })

  it('refuses an array of 2 M items (413) and a malformed item naming its index (400)', async () => {
    const many = await post(json, `[${'1,'.repeat(JUNK_LINES)}1]`)
    expect(many.statusCode, many.body).toBe(413)
    expect(many.json()).toMatchObject({ code: 'INGEST_BATCH_TOO_MANY_ITEMS' })
    expect(many.json<{ message: string }>().message).toContain('5000')
    const broken = await post(json, `[${JSON.stringify(meterReading('BL-1'))}, {"meterId": ]`)
    expect(broken.statusCode, broken.body).toBe(400)
    expect(broken.json()).toMatchObject({ code: 'INGEST_MALFORMED_JSON' })
    expect(broken.json<{ message: string }>().message).toContain('item 1')
  })

  it('refuses 5,001 valid NDJSON readings (413) and a body past the limit (413)', async () => {
    const lines = Array.from({ length: 5001 }, (_, i) => JSON.stringify(meterReading(`BL-${i}`))).join('\n')
    const many = await post(ndjson, lines)
    expect(many.statusCode, many.body).toBe(413)
    expect(many.json()).toMatchObject({ code: 'INGEST_BATCH_TOO_MANY_ITEMS' })
    const limit = batchBodyLimitBytes({ maxItems: 5000, maxItemBytes: 1024 })
    const large = await post(ndjson, Buffer.alloc(limit + 1, '\n'))
    expect(large.statusCode, large.body).toBe(413)
    expect(large.json()).toMatchObject({ code: 'INGEST_BODY_TOO_LARGE' })
    expect(large.json<{ message: string }>().message).toContain(String(limit))
  })

  it('rejects a line over the per-item bound as that item and publishes the rest', async () => {
    const reader = await TopicReader.start(brokers, [topics.meter])
    try {
      const lines = [
        JSON.stringify(meterReading('BL-OK')),
        JSON.stringify(meterReading('BL-BIG', { pad: 'x'.repeat(2000) })),
      ]
      const res = await post(ndjson, lines.join('\n'))
      expect(res.statusCode, res.body).toBe(202)
      expect(res.json()).toEqual({
        accepted: 1,
        rejected: [{ index: 1, issues: [{ field: 'body', reason: 'line 2: longer than 1024 bytes' }] }],
      })
      await reader.waitFor((r) => r.items(topics.meter).some((x) => x.item.meterId === 'BL-OK'), 'BL-OK')
    } finally {
      await reader.stop()
    }
  })
})

describe('a 2 M-line body over real HTTP, with a health probe alongside', () => {
  let app: App
  let port: number
  const probes = new Agent({ keepAlive: true })

  beforeAll(async () => {
    const topics = await freshTopics(brokers)
    app = await gateway(brokers, topics.prefix)
    await app.listen({ host: '127.0.0.1', port: 0 })
    port = (app.server.address() as AddressInfo).port
  })
  afterAll(async () => {
    probes.destroy()
    await app?.close()
  })

  /**
   * GET /health/live; resolves with its status. How fast it answers meanwhile is a benchmark's figure
   * (`npm run bench -- batch-refusal`), not a test's: here it must answer, in order with the upload.
   */
  function probe(): Promise<{ status: number }> {
    return new Promise((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', path: '/health/live', agent: probes }, (res) => {
        readAnswer(res).then((a) => resolve({ status: a.status }), reject)
      })
      req.on('error', reject)
      req.end()
    })
  }

  it('refuses the body while the health probe keeps answering', async () => {
    // The probes' connection is opened first, so what they measure is the gateway's answer.
    expect((await probe()).status).toBe(200)
    const body = Buffer.from('x\n'.repeat(JUNK_LINES))
    let answered: Answer | undefined
    let gone = false
    const big = request({
      port,
      host: '127.0.0.1',
      method: 'POST',
      path: '/v1/ingest/batch',
      agent: false,
      headers: { ...ndjson, 'content-length': String(body.length) },
    })
    const answer = new Promise<Answer>((resolve, reject) => {
      big.on('response', (res) => readAnswer(res).then((a) => resolve((answered = a)), reject))
      // Once refused, the gateway closes the connection; the rest of the upload then fails here.
      big.on('error', (err) => (answered ? undefined : reject(err)))
      big.on('close', () => (gone = true))
    })
    // Awaited below; a failure before then must not surface as an unhandled rejection.
    answer.catch(() => {})
    const progress = () =>
      new Promise<void>((resolve) => {
        const done = () => {
          big.off('drain', done)
          big.off('close', done)
          resolve()
        }
        big.once('drain', done)
        big.once('close', done)
        void answer.then(done, done)
      })

    // The first lines (fewer than the ten it tolerates) open the request and leave it waiting for more.
    big.write(body.subarray(0, 4))
    const whileOpen = await probe()
    expect(answered, 'the big request was answered before the probe').toBeUndefined()
    expect(whileOpen.status).toBe(200)

    // Then the rest, 64 KiB at a time, a probe after each piece until the answer comes.
    const during: { status: number }[] = []
    for (let at = 4; at < body.length && answered === undefined && !gone; at += 64 * 1024) {
      if (!big.write(body.subarray(at, at + 64 * 1024))) await progress()
      during.push(await probe())
    }
    if (!gone && answered === undefined) big.end()
    const refused = await answer
    expect(refused.status, refused.body).toBe(400)
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'INGEST_BATCH_MALFORMED' })
    expect(during.length).toBeGreaterThan(0)
    for (const p of during) expect(p.status).toBe(200)
    big.destroy()
  })
})
