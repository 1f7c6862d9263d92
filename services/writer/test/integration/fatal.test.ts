// A consumer that kafkajs will not restart (it crashed on an error it does not retry) must not leave a
// live-looking writer that consumes nothing: the app reports it through onFatal, and the process exits
// non-zero so that its supervisor restarts it. The trigger here is a DLQ topic that refuses every dead
// letter (max.message.bytes = 100): the broker answers MESSAGE_TOO_LARGE, which kafkajs does not retry.
// Needs services/writer/dist for the process case (npm test builds it first).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually, freePort, repoRoot, spawnManaged, type ManagedProcess } from '@energy-ingest/testenv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWriter, type Writer } from '../../src/writer.js'
import { setupHarness, writerConfig, writerEnv, type Harness } from './helpers.js'

const MAIN = join(repoRoot, 'services/writer/dist/main.js')

describe('a consumer that will not be restarted', () => {
  let h: Harness
  let writer: Writer | undefined
  let proc: ManagedProcess | undefined
  const logDir = mkdtempSync(join(tmpdir(), 'writer-fatal-'))

  beforeAll(async () => {
    h = await setupHarness({ dlqConfig: { 'max.message.bytes': '100' } })
    await h.producer.send({
      topic: h.topics.meter,
      acks: -1,
      messages: [{ partition: 0, key: 'poison', value: 'not JSON' }],
    })
  })

  afterAll(async () => {
    await proc?.kill()
    await writer?.stop().catch(() => {})
    await h?.close()
    if (!process.env.KEEP_WRITER_LOGS) rmSync(logDir, { recursive: true, force: true })
  })

  it('calls onFatal with the error, and the writer is no longer ready', async () => {
    const fatal: Error[] = []
    writer = await createWriter(writerConfig(h), { onFatal: (err) => void fatal.push(err) })
    await writer.start()
    await eventually(() => fatal.length > 0, { timeoutMs: 30_000, message: 'onFatal called' })
    expect(fatal).toHaveLength(1)
    expect(fatal[0]!.message).toMatch(/larger than the max message size/)
    expect((await fetch(`${writer.url()}/health/ready`)).status).toBe(503)
  })

  it('makes the writer process exit 1', async () => {
    const port = await freePort()
    proc = spawnManaged(process.execPath, [MAIN], {
      name: 'writer-fatal',
      logFile: join(logDir, 'writer.log'),
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        // A group of its own, with no committed offset: it reads the poison message again.
        ...writerEnv(h, { WRITER_PORT: String(port), KAFKA_GROUP_ID: `${h.prefix}fatal-process` }),
      },
    })
    const running = proc
    await eventually(() => !running.isRunning(), { timeoutMs: 45_000, message: 'the writer process exited' })
    expect(await running.exited).toBe(1)
  })
})
