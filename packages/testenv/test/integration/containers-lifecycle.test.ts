// Runs in the TESTENV=containers suite only (vitest.config.ts).
import { spawn } from 'node:child_process'
import { hostname } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { getContainerRuntimeClient } from 'testcontainers'
import { afterAll, describe, expect, inject, it } from 'vitest'
import {
  brokerAnswers,
  dockerCleanup,
  eventually,
  pinnedPostgresVersion,
  startKafkaInContainer,
} from '../../src/index.js'

const env = inject('testenv')

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

describe('container lifecycle', () => {
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
