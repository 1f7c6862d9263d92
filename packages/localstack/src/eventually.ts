export interface EventuallyOptions {
  timeoutMs?: number
  intervalMs?: number
  message?: string
}

/** Polls `fn` until it returns a truthy value (returned), or throws after the deadline. */
export async function eventually<T>(
  fn: () => Promise<T | false | null | undefined> | T | false | null | undefined,
  { timeoutMs = 15_000, intervalMs = 100, message = 'condition' }: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await fn()
      if (value) return value
      lastError = undefined
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${cause}`, { cause: lastError })
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
