export function log(message: string): void {
  process.stderr.write(`[testenv] ${message}\n`)
}
