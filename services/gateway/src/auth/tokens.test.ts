import { describe, expect, it } from 'vitest'
import { TokenVerifier, deviceToken } from './tokens.js'

const secret = 'unit-test-secret-123'
const verifier = new TokenVerifier(secret, ['fleet-token-1', 'fleet-token-2'])

describe('device tokens', () => {
  it('are base64url HMAC-SHA256 of "<type>:<deviceId>"', () => {
    const t = deviceToken(secret, 'meter', 'METER-001')
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(deviceToken(secret, 'vehicle', 'METER-001')).not.toBe(t)
  })

  it('authorize only their own device and type', () => {
    const check = verifier.check(`Bearer ${deviceToken(secret, 'meter', 'M1')}`)
    if (!check.ok) throw new Error('expected a principal')
    expect(verifier.mayPostFor(check.principal, 'meter', 'M1')).toBe(true)
    expect(verifier.mayPostFor(check.principal, 'meter', 'M2')).toBe(false)
    expect(verifier.mayPostFor(check.principal, 'vehicle', 'M1')).toBe(false)
  })

  it('are not accepted under another secret', () => {
    const check = verifier.check(`Bearer ${deviceToken('another-secret-456', 'meter', 'M1')}`)
    expect(check.ok && verifier.mayPostFor(check.principal, 'meter', 'M1')).toBe(false)
  })
})

describe('TokenVerifier.check', () => {
  it('recognises fleet tokens, which may post for anyone', () => {
    const check = verifier.check('Bearer fleet-token-2')
    expect(check).toEqual({ ok: true, principal: { kind: 'fleet' } })
    if (check.ok) expect(verifier.mayPostFor(check.principal, 'vehicle', 'anything')).toBe(true)
  })

  it.each([undefined, '', 'fleet-token-1', 'Basic abc', 'Bearer', 'Bearer short', 'Bearer fleet-token-3'])(
    'refuses %j',
    (header) => {
      expect(verifier.check(header).ok).toBe(false)
    },
  )
})
