// Watchdog for the processes and folders started by @energy-ingest/localstack (and whatever its users
// register with it). It is spawned detached and outlives its parent on purpose: when the parent dies
// without cleaning up (SIGKILL, a crashed test runner or stack), it runs the registered clean-up hooks
// (e.g. testenv's removal of a container run), kills the listed process groups and removes the listed
// folders. Plain JS: it must run without a build. Usage: node reaper.cjs <parentPid> <stateFile>
'use strict'
const fs = require('node:fs')
const { procStart, sameProcess } = require('./process-alive.cjs')

/**
 * The state file's content: `{ state }`, `{ missing: true }` once the parent removed it (a normal
 * stop), or `{ unreadable: true }` when it cannot be parsed (caught mid-write): not a stop, read again.
 */
function readState(stateFile) {
  let text
  try {
    text = fs.readFileSync(stateFile, 'utf8')
  } catch (err) {
    return err.code === 'ENOENT' ? { missing: true } : { unreadable: true }
  }
  try {
    return { state: JSON.parse(text) }
  } catch {
    return { unreadable: true }
  }
}

async function reap(state, stateFile) {
  // A hook is { module, fn, args }: require(module)[fn](...args), awaited, its failure ignored.
  for (const { module, fn, args } of state.cleanups || []) {
    try {
      await require(module)[fn](...(args || []))
    } catch {
      /* best effort: the next run's start-up clean-up catches what is left */
    }
  }
  const starts = state.starts || {}
  for (const pid of state.pids || []) {
    // A tracked process that ended on its own may have left its number to a newer one: not ours.
    if (!sameProcess(pid, starts[pid])) continue
    // Children run in their own process group (detached), so kill the whole group.
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL')
      } catch {
        /* already gone */
      }
    }
  }
  const deadline = Date.now() + 5000
  while ((state.pids || []).some((pid) => sameProcess(pid, starts[pid])) && Date.now() < deadline)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
  for (const dir of state.dirs || []) fs.rmSync(dir, { recursive: true, force: true })
  fs.rmSync(stateFile, { force: true })
}

function main(parentPid, stateFile) {
  // Who the parent is now: a later process given the same number is not it.
  const parentStart = procStart(parentPid)?.start
  let last = null
  const timer = setInterval(() => {
    const read = readState(stateFile)
    if (read.missing) {
      // The parent removed the state file: a normal stop, nothing left to watch.
      clearInterval(timer)
      return
    }
    if (read.state) last = read.state
    if (!sameProcess(parentPid, parentStart)) {
      clearInterval(timer)
      // A file the parent died in the middle of writing: what it listed before that.
      if (last !== null) void reap(last, stateFile)
    }
  }, 300)
}

if (require.main === module) main(Number(process.argv[2]), process.argv[3])

module.exports = { readState }
