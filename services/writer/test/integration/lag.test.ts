// writer_consumer_lag is read from the broker on a timer (committed offsets vs high watermarks), so it
// shows a backlog while batches are stuck, not only after a batch succeeds.
import { holdTransaction, type HeldTransaction } from '@energy-ingest/db/internal'
import { eventually } from '@energy-ingest/testenv'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWriter, type Writer } from '../../src/writer.js'
import { historyCounts, publishReadings, setupHarness, writerConfig, type Harness } from './helpers.js'

const READINGS = 30

describe('consumer lag', () => {
  let h: Harness
  let writer: Writer | undefined
  let blocker: pg.Client | undefined
  let blocking: HeldTransaction | undefined

  beforeAll(async () => {
    h = await setupHarness()
  })

  afterAll(async () => {
    await blocking?.end(false).catch(() => {})
    await blocker?.end()
    await writer?.stop()
    await h?.close()
  })

  async function meterLag(w: Writer): Promise<number | undefined> {
    const { values } = await w.metrics.consumerLag.get()
    const meter = values.filter((v) => v.labels.topic === h.topics.meter)
    return meter.length === 0 ? undefined : meter.reduce((sum, v) => sum + v.value, 0)
  }

  it('reports the backlog while the database path is blocked, and 0 once it is stored', async () => {
    writer = await createWriter(
      writerConfig(h, { CONSUMER_LAG_INTERVAL_MS: '200', KAFKA_SESSION_TIMEOUT_MS: '30000' }),
    )
    const w = writer
    await w.start()
    await eventually(async () => (await fetch(`${w.url()}/health/ready`)).status === 200, {
      message: 'writer ready',
    })

    // Every batch of meter readings now waits on this lock.
    blocker = new pg.Client({ connectionString: h.db.url })
    blocker.on('error', () => {}) // the database is dropped at teardown
    await blocker.connect()
    blocking = await holdTransaction(blocker)
    await blocker.query('LOCK TABLE meter_history IN ACCESS EXCLUSIVE MODE')

    const ts = new Date(Date.now() - 60_000).toISOString()
    const readings = Array.from({ length: READINGS }, (_, i) => ({
      meterId: `LAG-${i}`,
      kwhConsumedAc: 1,
      voltage: 230,
      timestamp: ts,
    }))
    await publishReadings(h, 'meter', readings, 1) // one message per reading
    await eventually(async () => (await meterLag(w)) === READINGS, {
      timeoutMs: 20_000,
      message: `a lag of ${READINGS} messages on the meter topic`,
    })
    // Nothing stored meanwhile (meter_history itself cannot be read under the lock).
    expect((await w.metrics.rowsInserted.get()).values.filter((v) => v.labels.type === 'meter')).toEqual([])

    await blocking.end(false)
    await eventually(async () => (await historyCounts(h.pool)).meter === READINGS, {
      timeoutMs: 30_000,
      message: 'the readings stored',
    })
    await eventually(async () => (await meterLag(w)) === 0, { message: 'no lag left' })
  })
})
