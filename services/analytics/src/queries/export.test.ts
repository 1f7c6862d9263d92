import { describe, expect, it } from 'vitest'
import { acceptsGzip } from '../routes/export.js'
import { exportCopySql, literal } from './export.js'

const window = { from: new Date('2026-06-10T00:00:00Z'), to: new Date('2026-06-11T00:00:00Z') }

describe('export SQL', () => {
  it('quotes literals', () => {
    expect(literal("a'b")).toBe("'a''b'")
    expect(() => literal('a\0b')).toThrow()
  })

  it('CSV with a header; ids ordered by device and time; the window as literals', () => {
    const sql = exportCopySql({ kind: 'meter', format: 'csv', window, ids: ['M-1', 'M-2'] })
    expect(sql).toMatch(/^COPY \(SELECT meter_id AS "meterId", to_char\(ts AT TIME ZONE 'UTC'/)
    expect(sql).toContain("meter_id = ANY (ARRAY['M-1', 'M-2']::text[])")
    expect(sql).toContain(
      "ts >= '2026-06-10T00:00:00.000Z'::timestamptz AND ts < '2026-06-11T00:00:00.000Z'::timestamptz",
    )
    expect(sql).toContain('ORDER BY meter_id, ts) TO STDOUT WITH (FORMAT csv, HEADER true)')
  })

  it('NDJSON: row_to_json lines copied verbatim; no ORDER BY without ids', () => {
    const sql = exportCopySql({ kind: 'vehicle', format: 'ndjson', window })
    expect(sql).toContain('SELECT row_to_json(r)::text FROM (SELECT vehicle_id AS "vehicleId"')
    expect(sql).not.toContain('ORDER BY')
    expect(sql).toContain(`WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')`)
  })
})

describe('acceptsGzip', () => {
  it.each([
    [undefined, false],
    ['gzip', true],
    ['deflate, gzip;q=0.5', true],
    ['GZIP', true],
    ['*', true],
    ['gzip;q=0', false],
    ['br, deflate', false],
    ['identity', false],
  ])('%s -> %s', (header, ok) => {
    expect(acceptsGzip(header)).toBe(ok)
  })
})
