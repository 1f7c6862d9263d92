// Whether a process exists, and whether it is still the same process: PIDs are reused, and on a machine
// whose pid_max is 32768 (Java threads draw from the same numbers) they come round within a test run.
// Plain JS, for the scripts that run without a build: the watchdog (reaper.cjs) and testenv's
// docker-cleanup.cjs; the bench's CPU sampling reads /proc/<pid>/stat with statFields too.
'use strict'
const fs = require('node:fs')

/** Whether process `pid` exists: signal 0 reaches it, or is refused (EPERM) because another user owns it. */
function alive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

/**
 * The fields of a /proc/<pid>/stat line after the command name, which may hold spaces and parentheses:
 * element 0 is field 3 (the state), element n is field n + 3.
 */
function statFields(text) {
  return text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(' ')
}

/**
 * When process `pid` started (clock ticks since boot, /proc/<pid>/stat field 22) and whether it has
 * exited without being waited for (a zombie); undefined where there is no /proc or no such process.
 */
function procStart(pid) {
  try {
    const fields = statFields(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))
    return { start: fields[22 - 3], zombie: fields[0] === 'Z' }
  } catch {
    return undefined
  }
}

/**
 * Whether `pid` is still the process that had start time `start` (from procStart when it was known to
 * be that process): not exited, not a zombie, and not a newer process that was given the same number.
 */
function sameProcess(pid, start) {
  if (!alive(pid)) return false
  const now = procStart(pid)
  if (now === undefined) return start === undefined // no /proc: the signal's answer is all there is
  return !now.zombie && (start === undefined || now.start === start)
}

module.exports = { alive, procStart, sameProcess, statFields }
