import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { ephemeralPortRange, freePort } from './process.js'

describe('freePort', () => {
  it('picks distinct ports below the range outgoing connections take theirs from, each one free', async () => {
    const [low] = ephemeralPortRange()
    const ports: number[] = []
    for (let i = 0; i < 40; i++) ports.push(await freePort())
    expect(new Set(ports).size).toBe(ports.length)
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(1024)
      expect(port).toBeLessThan(low)
    }
    // Each can be listened on.
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(ports[0], '127.0.0.1', resolve)
    })
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
})
