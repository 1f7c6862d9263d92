import { describe, expect, it } from 'vitest'
import { groupOf, processOf, selfTimeByGroup, type CpuProfile } from './profile.js'

const node = (id: number, url: string, functionName = 'f', children: number[] = []) => ({
  id,
  callFrame: { url, functionName },
  children,
})

describe('profile summary', () => {
  it.each([
    ['file:///r/node_modules/.pnpm/kafkajs@2.2.4/node_modules/kafkajs/src/producer/index.js', 'f', 'kafkajs'],
    [
      'file:///r/node_modules/.pnpm/@fastify+error@4/node_modules/@fastify/error/index.js',
      'f',
      '@fastify/error',
    ],
    ['file:///r/services/writer/dist/decode.js', 'f', 'writer/decode'],
    ['file:///r/packages/db/dist/queries/meter.js', 'f', 'db/queries/meter'],
    ['node:internal/streams/readable', 'f', 'node:internal'],
    ['node:zlib', 'f', 'node:zlib'],
    ['', '(garbage collector)', 'GC'],
    ['', '(idle)', 'idle'],
    ['', '(program)', 'V8/native'],
  ])('%s %s is %s', (url, fn, group) => {
    expect(groupOf(url, fn)).toBe(group)
  })

  it('names the process by the service files it ran, and sums self time per group', () => {
    const profile: CpuProfile = {
      nodes: [
        node(1, '', '(root)', [2, 3, 4]),
        node(2, 'file:///r/services/gateway/dist/routes/batch.js'),
        node(3, 'file:///r/node_modules/.pnpm/fastify@5/node_modules/fastify/lib/route.js'),
        node(4, '', '(idle)'),
      ],
      startTime: 0,
      endTime: 10_000,
      samples: [2, 3, 3, 4, 2],
      timeDeltas: [1000, 2000, 3000, 4000, 500],
    }
    expect(processOf(profile)).toBe('gateway')
    expect(Object.fromEntries(selfTimeByGroup(profile))).toEqual({
      'gateway/routes/batch': 1.5,
      fastify: 5,
      idle: 4,
    })
  })
})
