import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { ReadingType } from '@energy-ingest/contracts'

/** A device token: base64url(HMAC-SHA256(secret, "<type>:<deviceId>")); verifiable without a database. */
export function deviceToken(secret: string, type: ReadingType, deviceId: string): string {
  return createHmac('sha256', secret).update(`${type}:${deviceId}`).digest('base64url')
}

/**
 * Who is asking. `identity` is the same for every accepted spelling of a token and differs between
 * tokens (the rate limiter's key): a fleet token's position in the list, or a digest of a device token.
 */
export type Principal =
  { kind: 'fleet'; identity: string } | { kind: 'device'; identity: string; mac: Buffer }

export type TokenCheck = { ok: true; principal: Principal } | { ok: false; reason: string }

const DEVICE_TOKEN = /^[A-Za-z0-9_-]{43}$/ // 32 bytes of HMAC-SHA256, base64url without padding

const digest = (token: string) => createHash('sha256').update(token).digest()

/**
 * Checks tokens in constant time. Fleet tokens are compared through their SHA-256 digests so that
 * every comparison has the same length; a device token is only recognised by its shape here and
 * bound to a device once the body names one (`mayPostFor`).
 */
export class TokenVerifier {
  readonly #secret: string
  readonly #fleet: Buffer[]

  constructor(secret: string, fleetTokens: readonly string[]) {
    this.#secret = secret
    this.#fleet = fleetTokens.map(digest)
  }

  /**
   * Parses an Authorization header. The scheme is case-insensitive (RFC 7235) and the token exact:
   * a device token is accepted only in its canonical base64url spelling, so each token has one.
   */
  check(header: string | undefined): TokenCheck {
    if (header === undefined || header === '') return { ok: false, reason: 'missing Bearer token' }
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header)
    if (!match) return { ok: false, reason: 'expected "Bearer <token>"' }
    const token = match[1]!
    const presented = digest(token)
    let fleet = -1
    this.#fleet.forEach((known, i) => {
      if (timingSafeEqual(presented, known)) fleet = i
    })
    if (fleet >= 0) return { ok: true, principal: { kind: 'fleet', identity: `fleet:${fleet}` } }
    if (!DEVICE_TOKEN.test(token)) return { ok: false, reason: 'token is not valid' }
    const mac = Buffer.from(token, 'base64url')
    // The last of 43 characters carries 4 bits: three other spellings decode to the same bytes.
    if (mac.toString('base64url') !== token) return { ok: false, reason: 'token is not valid' }
    const identity = `device:${createHash('sha256').update(mac).digest('base64url').slice(0, 22)}`
    return { ok: true, principal: { kind: 'device', identity, mac } }
  }

  /** Whether the principal may post readings of this device. */
  mayPostFor(principal: Principal, type: ReadingType, deviceId: string): boolean {
    if (principal.kind === 'fleet') return true
    const expected = createHmac('sha256', this.#secret).update(`${type}:${deviceId}`).digest()
    return expected.length === principal.mac.length && timingSafeEqual(expected, principal.mac)
  }
}
