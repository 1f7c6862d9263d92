import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadStackConfig } from './config.js'

const dataDir = mkdtempSync(join(tmpdir(), 'stack-config-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

describe('loadStackConfig', () => {
  it('runs one broker unless told otherwise', () => {
    expect(loadStackConfig([], {}, dataDir).brokers).toBe(1)
  })

  it('takes --brokers 3 (or STACK_BROKERS=3) for a three-node cluster', () => {
    expect(loadStackConfig(['--brokers', '3'], {}, dataDir).brokers).toBe(3)
    expect(loadStackConfig(['--brokers=3'], {}, dataDir).brokers).toBe(3)
    expect(loadStackConfig([], { STACK_BROKERS: '3' }, dataDir).brokers).toBe(3)
  })

  it('refuses two brokers (a quorum of two survives no loss) and anything above three', () => {
    expect(() => loadStackConfig(['--brokers', '2'], {}, dataDir)).toThrow(/1 or 3/)
    expect(() => loadStackConfig(['--brokers', '5'], {}, dataDir)).toThrow(/STACK_BROKERS/)
  })
})
