import type { Static, TObject } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
  }
}

/**
 * Reads the variables a schema declares from an env-like object, applies defaults, converts types,
 * and throws one ConfigError naming every bad variable. `check` adds cross-field rules; it runs even
 * when some variables are ill-typed (so every problem is named at once) and must not trust their types.
 */
export function loadEnvConfig<T extends TObject>(
  schema: T,
  env: Record<string, string | undefined>,
  check: (config: Static<T>) => string[] = () => [],
): Static<T> {
  const known: Record<string, string> = {}
  for (const key of Object.keys(schema.properties)) {
    const raw = env[key]
    if (raw !== undefined) known[key] = raw.trim()
  }
  const value = Value.Convert(schema, Value.Default(schema, known))
  const problems = [...Value.Errors(schema, value)].map(
    (e) =>
      `${e.path.replace(/^\//, '') || 'config'}: ${e.message}` +
      (known[e.path.slice(1)] === undefined ? '' : ` (got ${JSON.stringify(known[e.path.slice(1)])})`),
  )
  problems.push(...check(value as Static<T>))
  if (problems.length > 0) throw new ConfigError(problems)
  return value as Static<T>
}
