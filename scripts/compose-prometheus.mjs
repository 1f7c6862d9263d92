// The compose smoke test's Prometheus check (scripts/compose-smoke.mjs): every service's /metrics is
// a scrape target, and Prometheus reports each one up.

/**
 * Scrape targets by job, as Prometheus reports them: `{ gateway: ['up'], writer: ['up', 'up'], … }`.
 * @param {string} prometheusUrl
 */
export async function targetHealth(prometheusUrl) {
  const res = await globalThis.fetch(`${prometheusUrl}/api/v1/targets?state=active`)
  if (!res.ok) throw new Error(`GET /api/v1/targets: ${res.status}`)
  const { data } = await res.json()
  const byJob = {}
  for (const t of data.activeTargets) (byJob[t.labels.job] ??= []).push(t.health)
  return byJob
}

/**
 * Waits until Prometheus scrapes `expected` targets per job and every one is up; returns the health
 * by job. The last state seen is in the error when the deadline passes.
 * @param {string} prometheusUrl
 * @param {Record<string, number>} expected  targets per job, e.g. { gateway: 1, writer: 2, analytics: 1 }
 * @param {number} timeoutMs
 */
export async function waitForTargetsUp(prometheusUrl, expected, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer'
  for (;;) {
    try {
      const health = await targetHealth(prometheusUrl)
      last = JSON.stringify(health)
      const allUp = Object.entries(expected).every(
        ([job, n]) => health[job]?.length === n && health[job].every((h) => h === 'up'),
      )
      if (allUp) return health
    } catch (err) {
      last = err.message
    }
    if (Date.now() > deadline) throw new Error(`Prometheus targets not all up: ${last}`)
    await new Promise((r) => setTimeout(r, 1000))
  }
}
