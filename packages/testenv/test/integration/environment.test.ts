import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'
import { getContainerRuntimeClient } from 'testcontainers'
import { afterAll, describe, expect, inject, it } from 'vitest'
import {
  brokerAnswers,
  createTestDatabase,
  createTopics,
  dockerCleanup,
  eventually,
  pinnedPostgresVersion,
  Reaper,
  startKafka,
  startKafkaInContainer,
  startPostgresPair,
  testTopicPrefix,
  uniqueName,
} from '../../src/index.js'

const env = inject('testenv')

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('the shared test environment', () => {
  it('produces and consumes through a consumer group on the real broker', async () => {
    const topic = `${testTopicPrefix()}roundtrip`
    await createTopics(env.kafkaBrokers, [topic], 3)
    const kafka = new Kafka({ clientId: 'env-test', brokers: env.kafkaBrokers, logLevel: logLevel.WARN })
    const producer = kafka.producer()
    const groupId = uniqueName('g')
    const consumer = kafka.consumer({ groupId })
    try {
      await producer.connect()
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 5}`, value: String(i) })),
      })
      await consumer.connect()
      await consumer.subscribe({ topic, fromBeginning: true })
      const seen: number[] = []
      await consumer.run({
        eachMessage: async ({ message }) => void seen.push(Number(message.value?.toString())),
      })
      // Distinct values: delivery is at-least-once, and a consumer that restarts (a fresh broker's
      // group coordinator answers "loading" at first) may see a message again.
      await eventually(() => new Set(seen).size >= 30, { timeoutMs: 30_000, message: '30 messages consumed' })
      expect([...new Set(seen)].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i))
      const admin = kafka.admin()
      await admin.connect()
      try {
        // The group committed its position: the sum of committed offsets reaches the 30 messages.
        await eventually(
          async () => {
            const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] })
            return offsets?.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) === 30
          },
          { timeoutMs: 20_000, message: 'committed group offsets' },
        )
      } finally {
        await admin.disconnect()
      }
    } finally {
      await consumer.disconnect()
      await producer.disconnect()
    }
  })

  it('replicates a committed row to the read replica, which refuses writes', async () => {
    const db = await createTestDatabase(env)
    const primary = new pg.Client({ connectionString: db.url })
    const replica = new pg.Client({ connectionString: db.replicaUrl })
    try {
      await primary.connect()
      await replica.connect()
      await primary.query('CREATE TABLE probe (id int PRIMARY KEY, note text)')
      await primary.query(`INSERT INTO probe VALUES (1, 'from the primary')`)
      const row = await eventually(
        async () =>
          (await replica.query('SELECT note FROM probe WHERE id = 1').catch(() => ({ rows: [] }))).rows[0],
        { timeoutMs: 10_000, message: 'row on the replica' },
      )
      expect(row).toEqual({ note: 'from the primary' })
      const recovery = await replica.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')
      expect(recovery.rows[0]?.r).toBe(true)
      await expect(replica.query(`INSERT INTO probe VALUES (2, 'no')`)).rejects.toMatchObject({
        code: '25006',
      })
    } finally {
      await primary.end()
      await replica.end()
      await db.drop()
    }
  })
})

describe.runIf(env.mode === 'local')('process lifecycle', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const c of cleanups) await c()
  })

  it('stop() leaves no broker or postgres process and no folder behind', async () => {
    const reaper = new Reaper()
    const [kafka, postgres] = await Promise.all([startKafka({ reaper }), startPostgresPair({ reaper })])
    const state = JSON.parse(
      (await import('node:fs')).readFileSync((reaper as unknown as { stateFile: string }).stateFile, 'utf8'),
    ) as { pids: number[]; dirs: string[] }
    expect(state.pids.length).toBe(3)
    expect(state.pids.every(alive)).toBe(true)
    await Promise.all([kafka.stop(), postgres.stop()])
    reaper.dispose()
    expect(state.pids.filter(alive)).toEqual([])
    expect(state.dirs.filter((d) => existsSync(d))).toEqual([])
  })

  it('a broker started without a reaper removes its folder on close()', async () => {
    const kafka = await startKafka({ partitions: 1 })
    expect(existsSync(kafka.dataDir)).toBe(true)
    await kafka.close()
    expect(existsSync(kafka.dataDir)).toBe(false)
  })

  it('a SIGKILLed owner still leaves nothing behind (the reaper cleans up)', async () => {
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'fixtures', 'orphan-maker.mjs')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    cleanups.push(async () => void child.kill('SIGKILL'))
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const started = await eventually(
      () => (out.includes('\n') ? (JSON.parse(out) as { pids: number[]; dirs: string[] }) : undefined),
      {
        timeoutMs: 60_000,
        message: 'the orphan maker to start PostgreSQL',
      },
    )
    expect(started.pids.length).toBe(2)
    expect(started.pids.every(alive)).toBe(true)
    child.kill('SIGKILL')
    await eventually(
      () => started.pids.every((p) => !alive(p)) && started.dirs.every((d) => !existsSync(d)),
      {
        timeoutMs: 20_000,
        message: 'the reaper to remove the orphaned postgres processes and folders',
      },
    )
  })
})

/** Containers, networks and volumes carrying testenv's labels that match `label` (key=value). */
async function labelled(
  label: string,
): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const docker = (await getContainerRuntimeClient()).container.dockerode
  const filters = { label: [label] }
  return {
    containers: (await docker.listContainers({ all: true, filters })).map((c) => c.Names[0] ?? c.Id),
    networks: (await docker.listNetworks({ filters })).map((n) => n.Name),
    volumes: ((await docker.listVolumes({ filters })).Volumes ?? []).map((v) => v.Name),
  }
}

const nothing = { containers: [], networks: [], volumes: [] }

describe.runIf(env.mode === 'containers')('container lifecycle', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const c of cleanups) await c()
  })

  it('runs the PostgreSQL version the embedded default pins', async () => {
    const client = new pg.Client({ connectionString: env.primaryUrl })
    await client.connect()
    try {
      const { rows } = await client.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)
      expect(rows[0]?.v).toBe(pinnedPostgresVersion())
    } finally {
      await client.end()
    }
  })

  it('a private broker stops, starts again on the same address, and close() removes it', async () => {
    // Only this test creates containers in this worker process while it runs.
    const mine = `${dockerCleanup.RUN_LABEL}.owner=${hostname()}/${process.pid}`
    const kafka = await startKafkaInContainer({ partitions: 1 })
    cleanups.push(() => kafka.close())
    expect((await labelled(mine)).containers.length).toBe(1)
    await kafka.stop()
    expect(await brokerAnswers(kafka.brokers)).toBe(false)
    await kafka.start()
    expect(await brokerAnswers(kafka.brokers)).toBe(true)
    await kafka.close()
    expect(await labelled(mine)).toEqual(nothing)
  }, 300_000)

  it('a SIGKILLed owner still leaves no container, network or volume behind (the watchdog)', async () => {
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, '..', 'fixtures', 'container-orphan-maker.mjs')],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    cleanups.push(async () => void child.kill('SIGKILL'))
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    await eventually(() => out.includes('\n'), {
      timeoutMs: 180_000,
      message: 'the orphan maker to start a Kafka container',
    })
    const owner = `${dockerCleanup.RUN_LABEL}.owner=${hostname()}/${child.pid}`
    expect((await labelled(owner)).containers.length).toBe(1)
    child.kill('SIGKILL')
    await eventually(async () => JSON.stringify(await labelled(owner)) === JSON.stringify(nothing), {
      timeoutMs: 60_000,
      message: "the watchdog to remove the killed owner's containers",
    })
  }, 300_000)
})
