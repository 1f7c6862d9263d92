import type { TObject } from '@sinclair/typebox'

/** What a Node process needs from its parent whatever it is: where programs and temp files are. */
const RUNTIME_VARIABLES = [
  'PATH',
  'HOME',
  'TMPDIR',
  'TZ',
  'LANG',
  'LC_ALL',
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'KAFKAJS_NO_PARTITIONER_WARNING',
] as const

/**
 * The environment of a service the stack starts: the runtime variables above, the service's own
 * settings (the variables its config schema declares) where the runner's environment sets them, then
 * what the stack decides (`own`, which wins). Nothing else of the runner's environment (cloud keys,
 * other projects' secrets) reaches the service.
 */
export function serviceEnv(
  parent: Record<string, string | undefined>,
  schema: Pick<TObject, 'properties'>,
  own: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of [...RUNTIME_VARIABLES, ...Object.keys(schema.properties)]) {
    const value = parent[name]
    if (value !== undefined) env[name] = value
  }
  return { ...env, ...own }
}
