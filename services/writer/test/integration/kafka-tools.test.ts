// The SRE's Kafka tools (`npm run kafka -- …`, scripts/kafka.mjs) against the test broker: the
// writer's consumer group described by Kafka's own ConsumerGroupCommand, with the bootstrap server
// taken from a stack settings file, as it is for `npm start`'s stack.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually, repoRoot } from '@energy-ingest/testenv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWriter, type Writer } from '../../src/writer.js'
import { PARTITIONS, setupHarness, writerConfig, type Harness } from './helpers.js'

// A hang detector, not a timing: each tool run starts a JVM, 20-40 s on a loaded 2-core machine.
const TOOL_RUNS_TIMEOUT_MS = 300_000

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** `npm run kafka -- <args>` runs `node scripts/run.mjs kafka <args>`; the same, minus npm. */
function kafkaTool(args: string[], stackDataDir: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'scripts', 'run.mjs'), 'kafka', ...args],
      { cwd: repoRoot, env: { ...process.env, STACK_DATA_DIR: stackDataDir }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** Rows of a whitespace-aligned table printed by a Kafka tool, keyed by its header. */
function table(text: string, firstHeader: string): Record<string, string>[] {
  const lines = text.split('\n').map((l) => l.trim())
  const start = lines.findIndex((l) => l.startsWith(`${firstHeader} `))
  if (start < 0) return []
  const header = lines[start]!.split(/\s+/)
  const rows: Record<string, string>[] = []
  for (const line of lines.slice(start + 1)) {
    if (line === '') break
    const cells = line.split(/\s+/)
    rows.push(Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])))
  }
  return rows
}

describe('npm run kafka (Kafka tools at the broker version, pointed at the stack)', () => {
  let h: Harness
  let writer: Writer | undefined
  let stackDir: string
  let emptyDir: string

  beforeAll(async () => {
    h = await setupHarness()
    stackDir = mkdtempSync(join(tmpdir(), 'kafka-tools-stack-'))
    emptyDir = mkdtempSync(join(tmpdir(), 'kafka-tools-none-'))
    // What `npm start` writes, reduced to the line the tools read.
    writeFileSync(join(stackDir, 'stack.env'), `KAFKA_BROKERS=${h.brokers.join(',')}\n`)
  })

  afterAll(async () => {
    await writer?.stop().catch(() => {})
    await h?.close()
    rmSync(stackDir, { recursive: true, force: true })
    rmSync(emptyDir, { recursive: true, force: true })
  })

  it(
    "describes the writer's consumer group: its member and the partitions it owns",
    async () => {
      writer = await createWriter(writerConfig(h))
      await writer.start()
      const group = `${h.prefix}energy-writer`
      // The member shows up once the writer has joined and been given its partitions.
      const members = await eventually(
        async () => {
          const run = await kafkaTool(
            ['consumer-groups', '--describe', '--group', group, '--members', '--verbose'],
            stackDir,
          )
          if (run.code !== 0) throw new Error(`exit ${run.code}: ${run.stderr}`)
          const rows = table(run.stdout, 'GROUP')
          return rows.length === 1 && Number(rows[0]!['#PARTITIONS']) > 0 ? rows : false
        },
        { timeoutMs: 150_000, intervalMs: 1000, message: 'the writer as the group member' },
      )
      const [member] = members
      expect(member!.GROUP).toBe(group)
      expect(member!['CLIENT-ID']).toBe('energy-writer')
      // One writer owns every partition of both reading topics and of the assignments topic:
      // CURRENT-ASSIGNMENT reads `topic:0,1,2;topic:0,1,2`.
      expect(Number(member!['#PARTITIONS'])).toBe(3 * PARTITIONS)
      const owned = Object.fromEntries(
        member!['CURRENT-ASSIGNMENT']!.split(';').map((entry) => {
          const [topic, partitions] = entry.split(':')
          return [topic, partitions!.split(',').map(Number)]
        }),
      )
      const all = [...Array(PARTITIONS).keys()]
      expect(owned).toEqual({ [h.topics.meter]: all, [h.topics.vehicle]: all, [h.topics.assignments]: all })

      // The offsets view: one row per partition, each with a lag column.
      const offsets = await kafkaTool(['consumer-groups', '--describe', '--group', group], stackDir)
      expect(offsets.code).toBe(0)
      const rows = table(offsets.stdout, 'GROUP').filter((r) => r.TOPIC === h.topics.meter)
      expect(rows.map((r) => Number(r.PARTITION)).sort((a, b) => a - b)).toEqual([
        ...Array(PARTITIONS).keys(),
      ])
      expect(rows.every((r) => r['CONSUMER-ID'] !== '-')).toBe(true)
    },
    TOOL_RUNS_TIMEOUT_MS,
  )

  it(
    'says so, and exits 2, when no stack runs',
    async () => {
      const none = await kafkaTool(['topics', '--list'], emptyDir)
      expect(none.code).toBe(2)
      expect(none.stderr).toContain('no local stack')
      expect(none.stderr).toContain('npm start')

      // A settings file left by a stack that has stopped: its broker port does not answer.
      writeFileSync(join(emptyDir, 'stack.env'), 'KAFKA_BROKERS=127.0.0.1:1\n')
      const stopped = await kafkaTool(['topics', '--list'], emptyDir)
      expect(stopped.code).toBe(2)
      expect(stopped.stderr).toContain('no broker answers at 127.0.0.1:1')
    },
    TOOL_RUNS_TIMEOUT_MS,
  )

  it('refuses an unknown tool with the list of tools', async () => {
    const run = await kafkaTool(['no-such-tool'], stackDir)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('unknown tool "no-such-tool"')
    expect(run.stderr).toContain('consumer-groups')
  })
})
