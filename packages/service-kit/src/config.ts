import type { Static, TObject } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
  }
}

/** Names that hold credentials whatever their schema says: their values are never echoed. */
const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|(^|_)KEYS?($|_)|CREDENTIAL/i

/** Whether a variable's value must stay out of messages: marked `secret: true` or named like a secret. */
export function isSecretVariable(name: string, schema?: unknown): boolean {
  return SECRET_NAME.test(name) || (schema as { secret?: unknown } | undefined)?.secret === true
}

/** A value fit for an error message or a log: URL passwords masked (`scheme://user:***@host`). */
export function redactUrlCredentials(value: string): string {
  return value.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^@/?#\s]*@/gi, '$1:***@')
}

function shown(name: string, raw: string | undefined, schema: unknown): string {
  if (raw === undefined) return ''
  if (isSecretVariable(name, schema)) return ' (value hidden)'
  return ` (got ${JSON.stringify(redactUrlCredentials(raw))})`
}

/**
 * Reads the variables a schema declares from an env-like object, applies defaults, converts types,
 * and throws one ConfigError naming every bad variable. A secret's value is never part of the message
 * (see isSecretVariable), and passwords inside URLs are masked. `check` adds cross-field rules; it runs even
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
  // Value.Default and Value.Convert change the object they are given: keep the raw text for messages.
  const given = { ...known }
  const value = Value.Convert(schema, Value.Default(schema, known))
  const problems = [...Value.Errors(schema, value)].map((e) => {
    const name = e.path.slice(1)
    return `${name || 'config'}: ${e.message}${shown(name, given[name], schema.properties[name])}`
  })
  problems.push(...check(value as Static<T>))
  if (problems.length > 0) throw new ConfigError(problems)
  return value as Static<T>
}
