import { defineConfig } from 'vitest/config'

// One vitest run covers every workspace package. Unit tests sit next to the code they test;
// integration tests live in test/integration and share one real Kafka + PostgreSQL primary/replica,
// started once per run by the integration project's globalSetup (packages/testenv).
// Which integration files belong to which suite. The local-process suite (`npm test`) runs everything
// but the containers' own lifecycle checks. The TESTENV=containers suite (CI's second part) runs the
// same tests on containers, less the files that start local brokers and PostgreSQL servers of their
// own whatever TESTENV says (the fault suites and the local lifecycle checks): they would only repeat
// the first run. No test is skipped: each file runs in the suite it belongs to.
const containers = process.env.TESTENV === 'containers'
const onlyInContainers = ['packages/testenv/test/integration/containers-lifecycle.test.ts']
const onlyLocal = [
  'packages/testenv/test/integration/local-lifecycle.test.ts',
  'test/e2e/chaos.test.ts',
  'test/e2e/chaos-cluster.test.ts',
]

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    teardownTimeout: 60_000,
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          // A deadline, not a speed check: building an app with its OpenAPI document can take seconds
          // on a loaded 2-core machine.
          testTimeout: 30_000,
          include: ['{packages,services,infra}/*/src/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['{packages,services,infra}/*/test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...(containers ? onlyLocal : onlyInContainers)],
          globalSetup: ['test/global-setup.ts'],
          // Hang detectors, not timings. With containers a broker restart is a container restart,
          // and the containers share the CPU of a busy machine as one cgroup: twice the bound.
          testTimeout: process.env.TESTENV === 'containers' ? 120_000 : 60_000,
          hookTimeout: 180_000,
          // Files share one broker and one PostgreSQL pair on 2 cores: a few at a time.
          maxWorkers: 2,
        },
      },
    ],
  },
})
