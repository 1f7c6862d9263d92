import { chmodSync, writeFileSync } from 'node:fs'

/**
 * Writes a file only its owner can read or write (0600), also when it already existed with a wider
 * mode: `writeFileSync`'s `mode` applies only to a file it creates.
 */
export function writePrivateFile(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 })
  chmodSync(path, 0o600)
}
