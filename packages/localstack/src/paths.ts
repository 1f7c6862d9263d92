import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** packages/localstack, whether running from src/ (tests) or dist/ (the stack runner, benches). */
export const localstackRoot = join(here, '..')

function findRepoRoot(start: string): string {
  let dir = start
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${start}`)
    dir = parent
  }
  return dir
}

export const repoRoot = findRepoRoot(here)
/** Git-ignored cache for downloaded artefacts (Kafka jars, initdb templates, tools). */
export const cacheDir = process.env.ENERGY_CACHE_DIR ?? join(repoRoot, '.cache')
