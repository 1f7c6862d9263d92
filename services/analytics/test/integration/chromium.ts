// The browser the dashboard tests drive: Debian's Chromium, headless, through playwright-core (which
// downloads no browser of its own). Missing, it is installed with apt-get when that is possible
// (root, apt-get present); otherwise the caller skips its tests and says why, loudly.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** A fresh, empty profile folder for one browser launch. */
export const freshUserDataDir = () => mkdtempSync(join(tmpdir(), 'energy-dashboard-chromium-'))

function run(cmd: string, args: string[], timeoutMs: number): { ok: boolean; output: string } {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n')
  return { ok: r.status === 0, output: r.error ? String(r.error) : output }
}

/**
 * The path of a usable Chromium, installing it if needed and possible; or the reason there is none.
 * Prints what it does, so a skip is never silent.
 */
export function ensureChromium(): { path: string } | { skip: string } {
  if (existsSync(CHROMIUM)) return { path: CHROMIUM }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  const hasApt = run('apt-get', ['--version'], 10_000).ok
  if (!isRoot || !hasApt) {
    return {
      skip: `${CHROMIUM} is missing and cannot be installed here (${isRoot ? 'no apt-get' : 'not root'}); install Chromium (apt-get install chromium) or set CHROMIUM_PATH`,
    }
  }
  console.warn(`[dashboard test] ${CHROMIUM} missing: running apt-get install -y chromium (a few minutes)…`)
  let install = run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], 600_000)
  if (!install.ok) {
    // A fresh machine may have no package lists yet.
    const update = run('apt-get', ['update'], 300_000)
    if (update.ok) install = run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], 600_000)
  }
  if (!install.ok || !existsSync(CHROMIUM)) {
    return { skip: `apt-get install chromium failed:\n${install.output}` }
  }
  console.warn(`[dashboard test] installed ${CHROMIUM}`)
  return { path: CHROMIUM }
}
