import { describe, expect, it } from 'vitest'
import { resolveWindow } from './window-params.js'

const now = Date.parse('2026-05-10T12:34:56.789Z')

describe('resolveWindow', () => {
  it('defaults to the 24 h ending at the end of the current minute', () => {
    const end = Date.parse('2026-05-10T12:35:00.000Z')
    expect(resolveWindow({}, now, 31)).toEqual({ from: new Date(end - 86_400_000), to: new Date(end) })
    // On a whole minute, that is now.
    expect(resolveWindow({}, end, 31)).toEqual({ from: new Date(end - 86_400_000), to: new Date(end) })
  })

  it('takes a missing end 24 h from the given one', () => {
    expect(resolveWindow({ from: '2026-05-01T00:00:00+02:00' }, now, 31)).toEqual({
      from: new Date('2026-04-30T22:00:00Z'),
      to: new Date('2026-05-01T22:00:00Z'),
    })
    expect(resolveWindow({ to: '2026-05-01T00:00:00Z' }, now, 31).from).toEqual(
      new Date('2026-04-30T00:00:00Z'),
    )
  })

  it.each([
    [{ from: 'yesterday' }, 'from: must be an RFC 3339'],
    [{ to: '2026-05-01T00:00:00' }, 'to: must be an RFC 3339'],
    [{ from: '2026-05-02T00:00:00Z', to: '2026-05-01T00:00:00Z' }, 'before'],
    [{ from: '2026-03-01T00:00:00Z', to: '2026-05-01T00:00:00Z' }, 'at most 31 days'],
  ])('rejects %j', (query, message) => {
    expect(() => resolveWindow(query, now, 31)).toThrow(message)
  })
})
