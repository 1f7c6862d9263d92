export interface Closable {
  close(): Promise<unknown>
  log: { info(obj: object, msg: string): void; error(obj: object | string, msg?: string): void }
}

/**
 * Graceful shutdown on SIGINT/SIGTERM, once, with a deadline: `close()` runs the app's onClose hooks
 * (finish work in hand, flush, disconnect); exit 0 when it completes, 1 when it fails or overruns.
 */
export function closeOnSignals(app: Closable, graceMs: number): void {
  let closing = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (closing) return
      closing = true
      app.log.info({ signal }, 'closing')
      setTimeout(() => {
        app.log.error({ graceMs }, 'shutdown deadline passed')
        process.exit(1)
      }, graceMs).unref()
      app.close().then(
        () => process.exit(0),
        (err: unknown) => {
          app.log.error({ err }, 'close failed')
          process.exit(1)
        },
      )
    })
  }
}

/** Loads config or exits 2 with a message naming the bad variables (never a stack trace). */
export function loadOrExit<T>(service: string, load: () => T): T {
  try {
    return load()
  } catch (err) {
    if (err instanceof Error && err.name === 'ConfigError') {
      process.stderr.write(`${service}: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
}
