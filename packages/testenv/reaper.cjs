// Watchdog for processes, folders and Docker objects started by @energy-ingest/testenv. It is spawned
// detached and outlives its parent on purpose: when the parent dies without cleaning up (SIGKILL, a
// crashed test runner), it kills what the state file lists, removes its folders and removes the
// containers, networks and volumes of the listed container runs (by label: docker-cleanup.cjs). Plain
// JS: it must run without a build. Usage: node reaper.cjs <parentPid> <stateFile>
'use strict'
const fs = require('node:fs')
const { removeRun } = require('./docker-cleanup.cjs')

const parentPid = Number(process.argv[2])
const stateFile = process.argv[3]

function alive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

function readState() {
  try {
    return JSON.parse(fs.readFileSync(stateFile, 'utf8'))
  } catch {
    return null
  }
}

async function reap(state) {
  for (const { endpoint, run } of state.docker || []) {
    await removeRun(endpoint, run).catch(() => undefined)
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
