// The readings export over a real socket: exact values, CSV and NDJSON, gzip, and the streaming
// promises: 2 M rows leave the process's memory flat, a client that stops reading stops the COPY on
// the replica (backpressure), and a client that goes away ends it (pg_stat_activity on the replica).
import http, { type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createGunzip } from 'node:zlib'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { ensureMonths } from '@energy-ingest/db'
import { createTestDatabase, eventually, waitForReplica, type TestDatabase } from '@energy-ingest/testenv'
import { buildApp, type App } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

const env = inject('testenv')
const KEY = 'export-key'
const NOW = Date.parse('2026-06-20T00:00:00.000Z')
const METERS = 2_000
const PER_METER = 1_000 // 2,000,000 meter rows, one a minute from 2026-06-10T00:00Z
const BIG = { from: '2026-06-10T00:00:00Z', to: '2026-06-11T00:00:00Z' }
const MB = 1024 * 1024

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let db: TestDatabase
let app: App
let base: string
let raw: pg.Pool

beforeAll(async () => {
  db = await createTestDatabase(env)
  const c = new pg.Client({ connectionString: db.url })
  await c.connect()
  try {
    await ensureMonths(c, ['meter', 'vehicle'], [new Date('2026-06-01T00:00:00Z')])
    await c.query(
      `INSERT INTO meter_history (meter_id, ts, kwh_consumed_ac, voltage, received_at)
       SELECT 'M-' || lpad(d::text, 4, '0'), timestamptz '2026-06-10 00:00Z' + r * interval '1 minute',
              round((random() * 2)::numeric, 4), round((225 + random() * 10)::numeric, 2),
              CASE WHEN r % 7 = 0 THEN NULL ELSE timestamptz '2026-06-10 00:00:01.5Z' + r * interval '1 minute' END
         FROM generate_series(1, ${METERS}) d, generate_series(0, ${PER_METER - 1}) r`,
    )
    // A few vehicles with hand-picked values: trailing zeros, many digits, nulls.
    await c.query(
      `INSERT INTO vehicle_history (vehicle_id, ts, soc, kwh_delivered_dc, battery_temp, received_at) VALUES
         ('EV-1', '2026-06-12T10:00:00.123Z', 50.0, 1.2500, -3.75, '2026-06-12T10:00:01Z'),
         ('EV-1', '2026-06-12T10:01:00Z', 51.5, 0.000001, 30, NULL),
         ('EV-2', '2026-06-12T09:59:59.999Z', 99.9, 123.456789012345, 45.5, '2026-06-12T10:00:00Z'),
         ('EV:3.x', '2026-06-12T11:00:00Z', 0, 0, 0, NULL),
         ('EV-1', '2026-06-13T10:00:00Z', 60, 1, 20, NULL)`,
    )
    await c.query('ANALYZE')
  } finally {
    await c.end()
  }
  await waitForReplica(env.primaryUrl, env.replicaUrl, 120_000)
  // A short idle timeout: the pool closes idle clients while the tests run, as a slow machine does with
  // the default one.
  const config = loadConfig({
    ANALYTICS_DATABASE_URL: db.replicaUrl,
    ANALYTICS_API_KEYS: KEY,
    ANALYTICS_PG_IDLE_TIMEOUT_MS: '200',
  })
  app = await buildApp(config, {
    logger: false,
    now: () => NOW,
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  raw = new pg.Pool({ connectionString: db.replicaUrl, max: 2 })
}, 600_000)

afterAll(async () => {
  await app?.close()
  await raw?.end()
  await db?.drop()
})

function request(path: string, headers: Record<string, string> = {}) {
  let req!: http.ClientRequest
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req = http.get(`${base}${path}`, { headers: { authorization: `Bearer ${KEY}`, ...headers } }, resolve)
    req.on('error', reject)
  })
  return { req, response }
}

async function body(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  const src = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res
  for await (const chunk of src) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await request(path, headers).response
  return { res, text: await body(res) }
}

/** Our COPY statements running on the replica, in this test's database. */
/**
 * How each client the pool hands out from now on (one entry per checkout) comes back: returned (released without an error, so
 * reused) or discarded (released with one, so closed). Idle-timeout closes do not count: they are the
 * pool's own housekeeping, and on a slow machine they happen while a test waits.
 */
function watchPool(pool: pg.Pool) {
  const taken: { client: pg.PoolClient; state: 'out' | 'returned' | 'discarded' }[] = []
  const onAcquire = (client: pg.PoolClient) => taken.push({ client, state: 'out' })
  const onRelease = (err: Error | undefined, client: pg.PoolClient) => {
    const use = taken.find((t) => t.client === client && t.state === 'out')
    if (use) use.state = err ? 'discarded' : 'returned'
  }
  pool.on('acquire', onAcquire)
  pool.on('release', onRelease)
  return {
    states: () => taken.map((t) => t.state),
    stop: () => {
      pool.off('acquire', onAcquire)
      pool.off('release', onRelease)
    },
  }
}

async function copiesOnReplica(): Promise<{ pid: number; state: string; wait_event: string | null }[]> {
  const { rows } = await raw.query(
    `SELECT pid, state, wait_event FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'COPY (SELECT%'`,
  )
  return rows
}

const micro = (d: Date) => d.toISOString().replace('Z', '000Z')

describe('GET /v1/export/readings', () => {
  it('exports vehicle readings as CSV with exact values, ordered by device and time for ids', async () => {
    const { res, text } = await get(
      '/v1/export/readings?kind=vehicle&from=2026-06-12T00:00:00Z&to=2026-06-13T00:00:00Z&ids=EV-2,EV-1,EV:3.x',
    )
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="vehicle-readings_20260612T000000Z_20260613T000000Z.csv"',
    )
    expect(text).toBe(
      [
        'vehicleId,timestamp,soc,kwhDeliveredDc,batteryTemp,receivedAt',
        'EV-1,2026-06-12T10:00:00.123000Z,50.0,1.2500,-3.75,2026-06-12T10:00:01.000000Z',
        'EV-1,2026-06-12T10:01:00.000000Z,51.5,0.000001,30,',
        'EV-2,2026-06-12T09:59:59.999000Z,99.9,123.456789012345,45.5,2026-06-12T10:00:00.000000Z',
        'EV:3.x,2026-06-12T11:00:00.000000Z,0,0,0,',
        '',
      ].join('\n'),
    )
  })

  it('exports NDJSON: one JSON object per line, same names, numbers with their stored digits', async () => {
    const { res, text } = await get(
      '/v1/export/readings?kind=vehicle&from=2026-06-12T00:00:00Z&to=2026-06-13T00:00:00Z&ids=EV-2&format=ndjson',
    )
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('application/x-ndjson')
    expect(res.headers['content-disposition']).toContain('.ndjson"')
    expect(text).toBe(
      '{"vehicleId":"EV-2","timestamp":"2026-06-12T09:59:59.999000Z","soc":99.9,"kwhDeliveredDc":123.456789012345,"batteryTemp":45.5,"receivedAt":"2026-06-12T10:00:00.000000Z"}\n',
    )
    const all = await get(
      '/v1/export/readings?kind=vehicle&from=2026-06-01T00:00:00Z&to=2026-07-01T00:00:00Z&format=ndjson',
    )
    const lines = all.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines).toHaveLength(5)
    expect(lines.filter((l) => l.receivedAt === null)).toHaveLength(3)
  })

  it('meter CSV rows equal the stored rows, and gzip gives the same bytes compressed', async () => {
    const path = `/v1/export/readings?kind=meter&from=2026-06-10T01:00:00Z&to=2026-06-10T03:30:00Z&ids=M-0001,M-0002,M-1999`
    const plain = await get(path)
    const gz = await get(path, { 'accept-encoding': 'gzip, deflate' })
    expect(gz.res.headers['content-encoding']).toBe('gzip')
    expect(plain.res.headers['content-encoding']).toBeUndefined()
    expect(gz.text).toBe(plain.text)
    const { rows } = await raw.query(
      `SELECT meter_id, ts, kwh_consumed_ac::text AS kwh, voltage::text AS v, received_at FROM meter_history
        WHERE meter_id IN ('M-0001', 'M-0002', 'M-1999') AND ts >= '2026-06-10T01:00:00Z' AND ts < '2026-06-10T03:30:00Z'
        ORDER BY meter_id, ts`,
    )
    expect(rows).toHaveLength(3 * 150)
    const expected = rows.map(
      (r) =>
        `${r.meter_id},${micro(r.ts)},${r.kwh},${r.v},${r.received_at === null ? '' : micro(r.received_at)}`,
    )
    expect(plain.text).toBe(
      ['meterId,timestamp,kwhConsumedAc,voltage,receivedAt', ...expected, ''].join('\n'),
    )
    // q=0 refuses gzip.
    const refused = await get(path, { 'accept-encoding': 'gzip;q=0' })
    expect(refused.res.headers['content-encoding']).toBeUndefined()
  })

  it('a finished export commits and returns its connection to the pool', async () => {
    const pool = watchPool(app.replica)
    try {
      for (const format of ['csv', 'ndjson'])
        for (const encoding of ['gzip', 'identity']) {
          const { res } = await get(
            `/v1/export/readings?kind=meter&from=2026-06-10T00:00:00Z&to=2026-06-10T00:30:00Z&format=${format}`,
            { 'accept-encoding': encoding },
          )
          expect(res.statusCode).toBe(200)
        }
      // The last one commits after its body went out: its connection comes back a moment later.
      await eventually(() => pool.states().every((s) => s !== 'out'), {
        timeoutMs: 10_000,
        message: 'every export connection back',
      })
      expect(pool.states()).toEqual(['returned', 'returned', 'returned', 'returned'])
    } finally {
      pool.stop()
    }
  })

  it.each([
    ['kind=meter&from=2026-05-01T00:00:00Z&to=2026-06-05T00:00:00Z', 'at most 31 days'],
    ['from=2026-06-10T00:00:00Z', 'kind'],
    ['kind=gas', 'kind'],
    ['kind=meter&format=xml', 'format'],
    ['kind=meter&ids=a%20b', 'ids'],
    ['kind=meter&ids=,', 'ids'],
    ['kind=meter&limit=5', 'limit'],
    ['kind=meter&to=yesterday', 'to'],
  ])('?%s is a 400 naming %s', async (query, word) => {
    const { res, text } = await get(`/v1/export/readings?${query}`)
    expect(res.statusCode).toBe(400)
    expect((JSON.parse(text) as { message: string }).message).toContain(word)
  })

  it('requires the API key', async () => {
    const { res } = await get('/v1/export/readings?kind=meter', { authorization: 'Bearer nope' })
    expect(res.statusCode).toBe(401)
  })

  it(`streams ${(METERS * PER_METER).toLocaleString('en')} rows with flat memory`, async () => {
    // Warm-up: a 30 MB export first, so what the process grows once (V8's young generation reaching its
    // working size under a high allocation rate, socket and zlib pools) is in the baseline; what the
    // measured export adds on top would be its own buffering.
    const warm = await get(`/v1/export/readings?kind=meter&from=${BIG.from}&to=2026-06-10T04:00:00Z`)
    expect(warm.text.length).toBeGreaterThan(30 * 1_000_000)
    gc()
    const before = process.memoryUsage()
    let peakRss = before.rss
    let peakHeap = before.heapUsed
    let bytes = 0
    let newlines = 0
    let nextSample = 0
    const started = performance.now()
    const res = await request(`/v1/export/readings?kind=meter&from=${BIG.from}&to=${BIG.to}`).response
    expect(res.statusCode).toBe(200)
    for await (const chunk of res as AsyncIterable<Buffer>) {
      bytes += chunk.length
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++
      if (bytes >= nextSample) {
        const m = process.memoryUsage()
        peakRss = Math.max(peakRss, m.rss)
        peakHeap = Math.max(peakHeap, m.heapUsed)
        nextSample = bytes + 256 * 1024
      }
    }
    const seconds = (performance.now() - started) / 1000
    expect(newlines).toBe(METERS * PER_METER + 1) // header + rows
    const rssDelta = (peakRss - before.rss) / MB
    const heapDelta = (peakHeap - before.heapUsed) / MB
    console.log(
      `[export] ${newlines - 1} rows, ${(bytes / MB).toFixed(1)} MB CSV in ${seconds.toFixed(1)} s ` +
        `(${Math.round((newlines - 1) / seconds)} rows/s); peak RSS +${rssDelta.toFixed(1)} MB, ` +
        `peak heapUsed +${heapDelta.toFixed(1)} MB over the start`,
    )
    // The body is ~140 MB: had it been buffered anywhere in this process, both would grow by that much.
    expect(rssDelta).toBeLessThan(48)
    expect(heapDelta).toBeLessThan(32)
  }, 600_000)

  it('a client that stops reading blocks the COPY on the replica (backpressure), memory stays flat', async () => {
    gc()
    const before = process.memoryUsage()
    // Uncompressed: 140 MB cannot hide in the socket and stream buffers on the way, so the COPY must block.
    const { req, response } = request(`/v1/export/readings?kind=meter&from=${BIG.from}&to=${BIG.to}`)
    const res = await response
    expect(res.statusCode).toBe(200)
    await new Promise<void>((resolve) => res.once('data', () => resolve()))
    res.pause()
    // PostgreSQL waits on writing to its client (us) once every buffer on the way is full.
    await eventually(
      async () => {
        const copies = (await copiesOnReplica()).filter((c) => c.state === 'active')
        return copies.length === 1 && copies[0]!.wait_event === 'ClientWrite'
      },
      { timeoutMs: 60_000, intervalMs: 100, message: 'COPY blocked on ClientWrite' },
    )
    const during = process.memoryUsage()
    expect((during.rss - before.rss) / MB).toBeLessThan(48)
    req.destroy()
    await eventually(async () => (await copiesOnReplica()).filter((c) => c.state === 'active').length === 0, {
      timeoutMs: 30_000,
      message: 'the paused COPY to end after the client left',
    })
  }, 120_000)

  it('a client that goes away ends the COPY on the replica, and the pool keeps working', async () => {
    const pool = watchPool(app.replica)
    for (const format of ['csv', 'ndjson']) {
      const { req, response } = request(
        `/v1/export/readings?kind=meter&from=${BIG.from}&to=${BIG.to}&format=${format}`,
      )
      const res = await response
      await new Promise<void>((resolve) => res.once('data', () => resolve()))
      expect((await copiesOnReplica()).length).toBe(1)
      req.destroy()
      await eventually(async () => (await copiesOnReplica()).length === 0, {
        timeoutMs: 30_000,
        intervalMs: 100,
        message: `the ${format} COPY to end after the client left`,
      })
    }
    // The connections of the aborted exports were discarded, not returned to the pool half-used.
    await eventually(() => pool.states().every((s) => s !== 'out'), {
      timeoutMs: 10_000,
      message: 'both export connections released',
    })
    pool.stop()
    expect(pool.states()).toEqual(['discarded', 'discarded'])
    const after = await get('/v1/export/readings?kind=vehicle&from=2026-06-13T00:00:00Z&ids=EV-1')
    expect(after.text).toBe(
      'vehicleId,timestamp,soc,kwhDeliveredDc,batteryTemp,receivedAt\nEV-1,2026-06-13T10:00:00.000000Z,60,1,20,\n',
    )
    expect((await get(`/v1/analytics/fleet/summary?from=${BIG.from}&to=${BIG.to}`)).res.statusCode).toBe(200)
  }, 120_000)

  it('runs at most ANALYTICS_EXPORT_MAX_CONCURRENT (2) exports at once; a third is a 503 to retry', async () => {
    const open = [0, 1].map(() => request(`/v1/export/readings?kind=meter&from=${BIG.from}&to=${BIG.to}`))
    for (const o of open) {
      const res = await o.response
      expect(res.statusCode).toBe(200)
      await new Promise<void>((resolve) => res.once('data', () => resolve()))
      res.pause()
    }
    const third = await get(`/v1/export/readings?kind=meter&from=${BIG.from}&to=${BIG.to}`)
    expect(third.res.statusCode).toBe(503)
    expect(third.res.headers['retry-after']).toBeDefined()
    expect(JSON.parse(third.text)).toMatchObject({ code: 'ANALYTICS_EXPORT_BUSY' })
    // The other routes still get connections.
    expect((await get('/v1/analytics/fleet/summary')).res.statusCode).toBe(200)
    for (const o of open) o.req.destroy()
    await eventually(async () => (await copiesOnReplica()).length === 0, {
      timeoutMs: 30_000,
      message: 'both COPYs to end',
    })
    const again = await get('/v1/export/readings?kind=vehicle&from=2026-06-13T00:00:00Z&ids=EV-1')
    expect(again.res.statusCode).toBe(200)
  }, 120_000)
})
