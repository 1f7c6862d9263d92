import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  eventually,
  repoRoot,
  spawnManaged,
  type ManagedProcess,
  type Reaper,
} from '@energy-ingest/localstack'
import type { TObject } from '@sinclair/typebox'
import { serviceEnv } from './service-env.js'

export interface ServiceSpec {
  name: string
  /** Path of the built entry point, relative to the repository root. */
  entry: string
  env: Record<string, string>
  /** The service's config schema: the only variables of the runner's environment it is given. */
  settings: Pick<TObject, 'properties'>
  /** URL that answers 200 once the service is ready. */
  readyUrl: string
}

export interface RunningService {
  spec: ServiceSpec
  proc: ManagedProcess
  logFile: string
}

/** Starts a service from its build output; its output goes to .data/logs/<name>.log. */
export function startService(spec: ServiceSpec, logDir: string, reaper: Reaper): RunningService {
  mkdirSync(logDir, { recursive: true })
  const logFile = join(logDir, `${spec.name}.log`)
  const proc = spawnManaged(process.execPath, [join(repoRoot, spec.entry)], {
    name: spec.name,
    logFile,
    cwd: repoRoot,
    env: serviceEnv(process.env, spec.settings, { KAFKAJS_NO_PARTITIONER_WARNING: '1', ...spec.env }),
  })
  reaper.trackPid(proc.pid)
  return { spec, proc, logFile }
}

export async function waitReady(service: RunningService, timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => {
      if (!service.proc.isRunning()) throw new Error(`${service.spec.name} exited; see ${service.logFile}`)
      const res = await fetch(service.spec.readyUrl, { signal: AbortSignal.timeout(2000) }).catch(
        () => undefined,
      )
      return res?.status === 200
    },
    { timeoutMs, intervalMs: 250, message: `${service.spec.name} ready at ${service.spec.readyUrl}` },
  )
}
