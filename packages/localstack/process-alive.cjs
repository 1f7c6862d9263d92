// Whether process `pid` exists: signal 0 reaches it, or is refused (EPERM) because another user owns
// it. Plain JS, for the scripts that run without a build: the watchdog (reaper.cjs) and testenv's
// docker-cleanup.cjs.
'use strict'

function alive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

module.exports = { alive }
