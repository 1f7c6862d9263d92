// Readiness does not queue behind the request pool: with every pooled connection busy in a slow query,
// /health/ready still answers, with the replica's real status.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestDatabase, eventually, type TestDatabase } from '@energy-ingest/testenv'
import { buildApp, type App } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { beat } from './fixtures.js'

const env = inject('testenv')
const KEY = 'k'
const SLEEP = 'SELECT pg_sleep(120) AS saturating'

let db: TestDatabase

beforeAll(async () => {
  db = await createTestDatabase(env)
})

afterAll(async () => {
  await db?.drop()
})

/** Occupies every connection of the app's request pool with a sleeping query; returns the release. */
async function saturate(app: App, url: string, size: number): Promise<() => Promise<void>> {
  const sleeping = Array.from({ length: size }, () =>
    app.replica.query(SLEEP).then(
      () => undefined,
      () => undefined,
    ),
  )
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  const busy = `SELECT count(*)::int AS n FROM pg_stat_activity
                 WHERE datname = current_database() AND state = 'active' AND query = $1`
  await eventually(async () => (await admin.query<{ n: number }>(busy, [SLEEP])).rows[0]!.n === size, {
    timeoutMs: 20_000,
    message: `${size} sleeping queries`,
  })
  expect(app.replica.totalCount).toBe(size)
  expect(app.replica.idleCount).toBe(0)
  return async () => {
    try {
      await admin.query(
        `SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = $1`,
        [SLEEP],
      )
      await Promise.all(sleeping)
    } finally {
      await admin.end()
    }
  }
}

async function buildOn(url: string) {
  return buildApp(
    loadConfig({
      ANALYTICS_DATABASE_URL: url,
      ANALYTICS_API_KEYS: KEY,
      ANALYTICS_POOL_MAX: '2',
      ANALYTICS_STATEMENT_TIMEOUT_MS: '300000',
      // Room for a connection on a loaded machine; still shorter than any of the sleeping queries.
      ANALYTICS_HEALTH_TIMEOUT_MS: '5000',
    }),
    { logger: false },
  )
}

describe('readiness with a saturated request pool', () => {
  it('reports a healthy replica ready', async () => {
    const app = await buildOn(db.replicaUrl)
    try {
      await beat(env, db)
      const release = await saturate(app, db.replicaUrl, 2)
      try {
        const res = await app.inject({ method: 'GET', url: '/health/ready' })
        expect(res.statusCode, res.body).toBe(200)
        expect(res.json()).toMatchObject({
          status: 'ok',
          checks: { replica: { ok: true, details: { replica: true } } },
        })
      } finally {
        await release()
      }
    } finally {
      await app.close()
    }
  })

  it('reports a server that is not a replica unready, for that reason', async () => {
    const app = await buildOn(db.url)
    try {
      const release = await saturate(app, db.url, 2)
      try {
        const res = await app.inject({ method: 'GET', url: '/health/ready' })
        expect(res.statusCode).toBe(503)
        expect(res.json().checks.replica.details.problems).toEqual(['connected server is not a read replica'])
      } finally {
        await release()
      }
    } finally {
      await app.close()
    }
  })
})
