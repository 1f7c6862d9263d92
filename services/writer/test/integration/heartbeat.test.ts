// The writer touches writer_heartbeat on the primary on a timer, with no data flowing, so that a reader
// of the replica can tell how far behind it is.
import { eventually } from '@energy-ingest/testenv'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWriter, type Writer } from '../../src/writer.js'
import { setupHarness, writerConfig, type Harness } from './helpers.js'

const LONG_AGO = new Date('2001-01-01T00:00:00Z')

describe('writer heartbeat', () => {
  let h: Harness
  let writer: Writer | undefined
  let replica: pg.Client | undefined

  beforeAll(async () => {
    h = await setupHarness()
  })

  afterAll(async () => {
    await writer?.stop()
    await replica?.end()
    await h?.close()
  })

  const beatOn = async (db: pg.Pool | pg.Client) =>
    (await db.query<{ beat_at: Date }>('SELECT beat_at FROM writer_heartbeat WHERE id = 1')).rows[0]!.beat_at

  it('moves beat_at forward on every tick, and the replica replays it', async () => {
    await h.pool.query('UPDATE writer_heartbeat SET beat_at = $1 WHERE id = 1', [LONG_AGO])
    writer = await createWriter(writerConfig(h, { WRITER_HEARTBEAT_INTERVAL_MS: '100' }))
    await writer.start()

    const first = await eventually(
      async () => {
        const at = await beatOn(h.pool)
        return at.getTime() > LONG_AGO.getTime() ? at : false
      },
      { message: 'a first beat' },
    )
    await eventually(async () => (await beatOn(h.pool)).getTime() > first.getTime(), {
      message: 'a later beat',
    })

    replica = new pg.Client({ connectionString: h.db.replicaUrl })
    replica.on('error', () => {}) // the database is dropped at teardown
    await replica.connect()
    const onReplica = replica
    await eventually(async () => (await beatOn(onReplica)).getTime() >= first.getTime(), {
      timeoutMs: 30_000,
      message: 'the beat replayed on the replica',
    })
    expect((await h.pool.query('SELECT count(*)::int AS n FROM writer_heartbeat')).rows).toEqual([{ n: 1 }])
  })
})
