#!/usr/bin/env node
// Prints the device token of one device: node services/gateway/dist/cli/token.js meter METER-001
// The secret comes from INGEST_TOKEN_SECRET (or the dev secret when INGEST_DEV_MODE=true).
import { deviceToken } from '../auth/tokens.js'
import { DEV_TOKEN_SECRET } from '../config.js'
import { DeviceIdSchema } from '@energy-ingest/contracts'

const [type, deviceId] = process.argv.slice(2)
const usage = 'usage: token <meter|vehicle> <deviceId>   (reads INGEST_TOKEN_SECRET)'
if ((type !== 'meter' && type !== 'vehicle') || deviceId === undefined) {
  process.stderr.write(`${usage}\n`)
  process.exit(2)
}
if (!new RegExp(DeviceIdSchema.pattern ?? '').test(deviceId) || deviceId.length > 64) {
  process.stderr.write(`token: deviceId must be ${DeviceIdSchema.description}\n`)
  process.exit(2)
}
let secret = process.env.INGEST_TOKEN_SECRET ?? ''
if (secret === '') {
  if (process.env.INGEST_DEV_MODE !== 'true') {
    process.stderr.write('token: set INGEST_TOKEN_SECRET (or INGEST_DEV_MODE=true for the dev secret)\n')
    process.exit(2)
  }
  secret = DEV_TOKEN_SECRET
}
process.stdout.write(`${deviceToken(secret, type, deviceId)}\n`)
