import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { writePrivateFile } from './private-file.js'

describe('writePrivateFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'private-file-'))
  afterEach(() => rmSync(join(dir, 'f'), { force: true }))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('creates the file with mode 0600', () => {
    writePrivateFile(join(dir, 'f'), 'secret')
    expect(statSync(join(dir, 'f')).mode & 0o777).toBe(0o600)
  })

  it('narrows a file that existed with a wider mode', () => {
    writeFileSync(join(dir, 'f'), 'old', { mode: 0o644 })
    writePrivateFile(join(dir, 'f'), 'secret')
    expect(statSync(join(dir, 'f')).mode & 0o777).toBe(0o600)
  })
})
