import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** packages/testenv, whether running from src/ (tests) or dist/. */
export const testenvRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
