export interface Closable {
  close(): Promise<unknown>
  log: { info(obj: object, msg: string): void; error(obj: object | string, msg?: string): void }
  /** An HTTP app's server: its idle keep-alive connections are closed while shutting down. */
  server?: { closeIdleConnections?: () => void }
}

/**
 * Graceful shutdown on SIGINT/SIGTERM, once, with a deadline: `close()` runs the app's onClose hooks
 * (finish work in hand, flush, disconnect); exit 0 when it completes, 1 when it fails or overruns.
 * A repeated signal (a terminal's Ctrl-C also forwarded by a launcher) does not cut it short.
 */
export function closeOnSignals(app: Closable, graceMs: number): void {
  let closing = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (closing) return
      closing = true
      app.log.info({ signal }, 'closing')
      setTimeout(() => {
        app.log.error({ graceMs }, 'shutdown deadline passed')
        process.exit(1)
      }, graceMs).unref()
      // A keep-alive connection whose request was in flight turns idle only after close() began and
      // would hold the server open until its keep-alive timeout: close those as they go idle.
      const server = app.server
      if (server?.closeIdleConnections) setInterval(() => server.closeIdleConnections?.(), 100).unref()
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
