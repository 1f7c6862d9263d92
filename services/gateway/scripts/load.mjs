// The load side of measure-throughput.mjs, in its own process: autocannon cycling through distinct
// bodies (ids spread over the partitions). Prints one JSON line.
//   node load.mjs <url> <connections> <seconds> <bodiesFile> <authorization>
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const [url, connections, seconds, bodiesFile, authorization] = process.argv.slice(2)
const require = createRequire(join(process.cwd(), 'packages', 'bench', 'package.json'))
const autocannon = require('autocannon')
const bodies = JSON.parse(readFileSync(bodiesFile, 'utf8'))
const result = await autocannon({
  url,
  connections: Number(connections),
  duration: Number(seconds),
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization },
  requests: bodies.map((body) => ({ method: 'POST', body })),
})
process.stdout.write(
  `${JSON.stringify({
    reqPerS: result.requests.average,
    p50ms: result.latency.p50,
    p99ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  })}\n`,
)
