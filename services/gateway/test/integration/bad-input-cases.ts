import { deviceAuth, fleetAuth, iso, meterReading, vehicleReading } from './helpers.js'

export interface Case {
  name: string
  status: number
  /** Expected error code, without its INGEST_ prefix. */
  code: string
  /** The message or a detail names this field. */
  field: string
  /** An object is sent as JSON; a string is sent as is. */
  payload: unknown
  url?: string
  headers?: Record<string, string>
}

export const meterAuth = deviceAuth('meter', 'METER-001')
const m = meterReading('METER-001')
const v = vehicleReading('VEH-1')
const vAuth = deviceAuth('vehicle', 'VEH-1')
const { timestamp: _t, ...noTimestamp } = m
const { voltage: _v, ...noVoltage } = m
const batch = '/v1/ingest/batch'

const c = (
  name: string,
  status: number,
  code: string,
  field: string,
  payload: unknown,
  extra: Pick<Case, 'url' | 'headers'> = {},
): Case => ({ name, status, code, field, payload, ...extra })
const invalid = (name: string, field: string, payload: unknown, extra: Pick<Case, 'headers'> = {}) =>
  c(name, 400, 'INVALID_READING', field, payload, extra)

/** Bad readings: missing/extra fields, wrong types, NaN-likes, ranges, ids, timestamps. */
export const readingCases: Case[] = [
  invalid('missing timestamp', 'timestamp', noTimestamp),
  invalid('missing voltage', 'voltage', noVoltage),
  invalid('unknown extra field', 'phase', { ...m, phase: 3 }),
  invalid('string for a number', 'voltage', { ...m, voltage: '230' }),
  invalid('"NaN" string', 'kwhConsumedAc', { ...m, kwhConsumedAc: 'NaN' }),
  invalid('boolean for a number', 'voltage', { ...m, voltage: true }),
  invalid('null for a number', 'voltage', { ...m, voltage: null }),
  invalid('1e400 (Infinity)', 'voltage', JSON.stringify(m).replace('231.4', '1e400')),
  c('NaN literal', 400, 'MALFORMED_JSON', 'body', JSON.stringify(m).replace('231.4', 'NaN')),
  invalid('negative energy', 'kwhConsumedAc', { ...m, kwhConsumedAc: -0.5 }),
  invalid('voltage above 1000', 'voltage', { ...m, voltage: 1000.5 }),
  invalid('soc above 100', 'soc', { ...v, soc: 100.1 }, { headers: vAuth }),
  invalid('battery below -60', 'batteryTemp', { ...v, batteryTemp: -61 }, { headers: vAuth }),
  invalid('both ids', 'body', { ...m, vehicleId: 'VEH-1' }),
  invalid('no id', 'body', { kwhConsumedAc: 1, voltage: 230, timestamp: iso() }),
  invalid('unknown type', 'type', { ...m, type: 'car' }),
  invalid('type contradicts the id field', 'meterId', { ...v, type: 'meter' }),
  invalid('zone-less timestamp', 'timestamp', { ...m, timestamp: '2026-01-01T00:00:00' }),
  invalid('impossible date', 'timestamp', { ...m, timestamp: '2026-02-30T00:00:00Z' }),
  invalid('future timestamp', 'timestamp', { ...m, timestamp: iso(3_600_000) }),
  invalid('past the retention horizon', 'timestamp', { ...m, timestamp: '2001-01-01T00:00:00Z' }),
  invalid('numeric timestamp', 'timestamp', { ...m, timestamp: Date.now() }),
  invalid('over-long id', 'meterId', { ...m, meterId: 'M'.repeat(65) }, { headers: fleetAuth }),
  invalid('id with a space', 'meterId', { ...m, meterId: 'METER 001' }, { headers: fleetAuth }),
  invalid('empty id', 'meterId', { ...m, meterId: '' }, { headers: fleetAuth }),
  invalid('null body', 'body', 'null'),
  invalid('array to the single route', 'body', [m]),
]

const text = { 'content-type': 'text/plain' }
const foreign = [m, meterReading('METER-002')]
const backwards = {
  vehicleId: 'V1',
  meterId: 'M1',
  validFrom: '2026-02-01T00:00:00Z',
  validTo: '2026-01-01T00:00:00Z',
}

/** Bad requests: JSON, content types, sizes, tokens, batches, assignments. */
export const requestCases: Case[] = [
  c('__proto__ key', 400, 'MALFORMED_JSON', 'body', '{"__proto__":{"x":1},"meterId":"METER-001"}'),
  c('malformed JSON', 400, 'MALFORMED_JSON', 'body', '{"meterId": "METER-001",'),
  c('empty JSON body', 400, 'EMPTY_BODY', 'body', ''),
  c('text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE', 'content-type', JSON.stringify(m), { headers: text }),
  c('application/xml', 415, 'UNSUPPORTED_MEDIA_TYPE', 'content-type', '<m/>', {
    headers: { 'content-type': 'application/xml' },
  }),
  c('NDJSON to the single route', 415, 'UNSUPPORTED_MEDIA_TYPE', 'content-type', JSON.stringify(m), {
    headers: { 'content-type': 'application/x-ndjson' },
  }),
  c('oversize body', 413, 'BODY_TOO_LARGE', 'body', { ...m, pad: 'x'.repeat(20_000) }),
  c('no token', 401, 'UNAUTHORIZED', 'authorization', m, { headers: { authorization: '' } }),
  c('garbage token', 401, 'UNAUTHORIZED', 'authorization', m, { headers: { authorization: 'Bearer nope' } }),
  c('Basic scheme', 401, 'UNAUTHORIZED', 'authorization', m, {
    headers: { authorization: 'Basic Zm9vOmJhcg==' },
  }),
  c('another device token', 403, 'DEVICE_FORBIDDEN', 'authorization', m, {
    headers: deviceAuth('meter', 'METER-002'),
  }),
  c('token of the id under the other type', 403, 'DEVICE_FORBIDDEN', 'authorization', m, {
    headers: deviceAuth('vehicle', 'METER-001'),
  }),
  c('batch: not an array', 400, 'BATCH_NOT_ARRAY', 'body', m, { url: batch, headers: fleetAuth }),
  c('batch: empty', 400, 'BATCH_ALL_REJECTED', 'body', [], { url: batch, headers: fleetAuth }),
  c('batch: nothing valid', 400, 'BATCH_ALL_REJECTED', 'body/0/voltage', [{ ...m, voltage: -1 }, { x: 1 }], {
    url: batch,
    headers: fleetAuth,
  }),
  c(
    'batch: too many items',
    413,
    'BATCH_TOO_MANY_ITEMS',
    'body',
    Array.from({ length: 5001 }, () => m),
    {
      url: batch,
      headers: fleetAuth,
    },
  ),
  c('batch: a foreign reading under a device token', 403, 'DEVICE_FORBIDDEN', 'authorization', foreign, {
    url: batch,
  }),
  c('batch: text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE', 'content-type', '[]', {
    url: batch,
    headers: { ...fleetAuth, ...text },
  }),
  c('assignment ending before it starts', 400, 'INVALID_ASSIGNMENT', 'validTo', backwards, {
    url: '/v1/assignments',
    headers: fleetAuth,
  }),
  c(
    'assignment starting in the year 10000 (UTC)',
    400,
    'INVALID_ASSIGNMENT',
    'validFrom',
    { vehicleId: 'V1', meterId: 'M1', validFrom: '9999-12-31T20:00:00-05:00' },
    { url: '/v1/assignments', headers: fleetAuth },
  ),
  c(
    'assignment ending before 1970 (UTC)',
    400,
    'INVALID_ASSIGNMENT',
    'validTo',
    {
      vehicleId: 'V1',
      meterId: 'M1',
      validFrom: '1970-01-01T00:00:00Z',
      validTo: '1970-01-01T00:30:00+01:00',
    },
    { url: '/v1/assignments', headers: fleetAuth },
  ),
]
