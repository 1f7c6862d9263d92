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
    expect(check).toMatchObject({ ok: true, principal: { kind: 'fleet' } })
    if (check.ok) expect(verifier.mayPostFor(check.principal, 'vehicle', 'anything')).toBe(true)
  })

  it.each([undefined, '', 'fleet-token-1', 'Basic abc', 'Bearer', 'Bearer short', 'Bearer fleet-token-3'])(
    'refuses %j',
    (header) => {
      expect(verifier.check(header).ok).toBe(false)
    },
  )
})

/** The same 32 bytes, spelled with other values in the 2 unused low bits of the last character. */
function respelled(token: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const last = alphabet.indexOf(token.at(-1)!)
  return token.slice(0, -1) + alphabet[last ^ 1]
}

describe('one spelling per token', () => {
  const token = deviceToken(secret, 'meter', 'M1')
  const identity = (header: string) => {
    const check = verifier.check(header)
    return check.ok ? check.principal.identity : check.reason
  }

  it('gives every accepted spelling of the Authorization header the same identity', () => {
    const id = identity(`Bearer ${token}`)
    expect(id).toMatch(/^device:/)
    expect(id).not.toContain(token)
    for (const header of [`bearer ${token}`, `BEARER ${token}`, `Bearer   ${token}`, `Bearer ${token} `]) {
      expect(identity(header)).toBe(id)
    }
    expect(identity('Bearer fleet-token-1')).toBe(identity('bEaReR fleet-token-1'))
  })

  it('gives each token its own identity', () => {
    const ids = [
      `Bearer ${token}`,
      `Bearer ${deviceToken(secret, 'meter', 'M2')}`,
      'Bearer fleet-token-1',
      'Bearer fleet-token-2',
    ].map(identity)
    expect(new Set(ids).size).toBe(4)
  })

  it('refuses a non-canonical base64url spelling of a valid token', () => {
    const other = respelled(token)
    expect(other).not.toBe(token)
    expect(Buffer.from(other, 'base64url')).toEqual(Buffer.from(token, 'base64url'))
    expect(verifier.check(`Bearer ${other}`)).toEqual({ ok: false, reason: 'token is not valid' })
  })
})
