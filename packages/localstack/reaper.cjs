// Watchdog for the processes and folders started by @energy-ingest/localstack (and whatever its users
// register with it). It is spawned detached and outlives its parent on purpose: when the parent dies
// without cleaning up (SIGKILL, a crashed test runner or stack), it runs the registered clean-up hooks
// (e.g. testenv's removal of a container run), kills the listed process groups and removes the listed
// folders. Plain JS: it must run without a build. Usage: node reaper.cjs <parentPid> <stateFile>
'use strict'
const fs = require('node:fs')
const { alive } = require('./process-alive.cjs')

const parentPid = Number(process.argv[2])
const stateFile = process.argv[3]

function readState() {
  try {
    return JSON.parse(fs.readFileSync(stateFile, 'utf8'))
  } catch {
    return null
  }
}

async function reap(state) {
  // A hook is { module, fn, args }: require(module)[fn](...args), awaited, its failure ignored.
  for (const { module, fn, args } of state.cleanups || []) {
    try {
      await require(module)[fn](...(args || []))
    } catch {
      /* best effort: the next run's start-up clean-up catches what is left */
    }
  }
  for (const pid of state.pids || []) {
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
  while ((state.pids || []).some(alive) && Date.now() < deadline)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
  for (const dir of state.dirs || []) fs.rmSync(dir, { recursive: true, force: true })
  fs.rmSync(stateFile, { force: true })
}

const timer = setInterval(() => {
  const state = readState()
  if (state === null) {
    // The parent removed the state file: a normal stop, nothing left to watch.
    clearInterval(timer)
    return
  }
  if (!alive(parentPid)) {
    clearInterval(timer)
    void reap(state)
  }
}, 300)
