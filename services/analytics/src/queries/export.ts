// The COPY statements of the readings export (routes/export.ts). COPY takes no bind parameters, so
// the window and the ids are written into the statement as quoted literals (the ids are also
// restricted to the device-id alphabet before they get here).
import type { Range } from './window.js'

export type ExportKind = 'meter' | 'vehicle'
export type ExportFormat = 'csv' | 'ndjson'

/** Columns of each kind, in order: output name, SQL expression, meaning (for the docs). */
export const EXPORT_COLUMNS: Record<ExportKind, { name: string; sql: string; doc: string }[]> = {
  meter: [
    { name: 'meterId', sql: 'meter_id', doc: 'meter id' },
    { name: 'timestamp', sql: iso('ts'), doc: 'reading time, RFC 3339 UTC with microseconds' },
    {
      name: 'kwhConsumedAc',
      sql: 'kwh_consumed_ac',
      doc: 'AC energy drawn since the previous reading, kWh',
    },
    { name: 'voltage', sql: 'voltage', doc: 'grid voltage, V' },
    {
      name: 'receivedAt',
      sql: iso('received_at'),
      doc: 'when the gateway received it (empty/null: unknown)',
    },
  ],
  vehicle: [
    { name: 'vehicleId', sql: 'vehicle_id', doc: 'vehicle id' },
    { name: 'timestamp', sql: iso('ts'), doc: 'reading time, RFC 3339 UTC with microseconds' },
    { name: 'soc', sql: 'soc', doc: 'state of charge, %' },
    {
      name: 'kwhDeliveredDc',
      sql: 'kwh_delivered_dc',
      doc: 'DC energy delivered into the battery since the previous reading, kWh',
    },
    { name: 'batteryTemp', sql: 'battery_temp', doc: 'battery temperature, °C' },
    {
      name: 'receivedAt',
      sql: iso('received_at'),
      doc: 'when the gateway received it (empty/null: unknown)',
    },
  ],
}

function iso(col: string): string {
  return `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
}

/** A PostgreSQL string literal (standard_conforming_strings on, the default since 9.1). */
export function literal(s: string): string {
  if (s.includes('\0')) throw new Error('NUL in a literal')
  return `'${s.replaceAll("'", "''")}'`
}

export interface ExportRequest {
  kind: ExportKind
  format: ExportFormat
  window: Range
  /** Devices to export; undefined = every device of the kind. */
  ids?: string[]
}

/**
 * `COPY (SELECT …) TO STDOUT` for an export. Rows of the given ids come ordered by device and time
 * (primary-key range scans); without ids, in storage order (close to arrival order: a fleet-wide
 * sort would need the whole window sorted before the first byte).
 *
 * NDJSON: each row is one JSON object built by PostgreSQL (row_to_json: compact, columns in order; numeric values keep their exact digits),
 * copied in CSV mode with a quote and a delimiter that JSON text never contains, so lines come out
 * verbatim (text mode would double every backslash).
 */
export function exportCopySql(req: ExportRequest): string {
  const table = `${req.kind}_history`
  const idCol = `${req.kind}_id`
  const cols = EXPORT_COLUMNS[req.kind]
  const where = [
    `ts >= ${literal(req.window.from.toISOString())}::timestamptz`,
    `ts < ${literal(req.window.to.toISOString())}::timestamptz`,
  ]
  if (req.ids !== undefined)
    where.unshift(`${idCol} = ANY (ARRAY[${req.ids.map(literal).join(', ')}]::text[])`)
  const order = req.ids !== undefined ? ` ORDER BY ${idCol}, ts` : ''
  if (req.format === 'csv') {
    const select = cols.map((c) => `${c.sql} AS "${c.name}"`).join(', ')
    return `COPY (SELECT ${select} FROM ${table} WHERE ${where.join(' AND ')}${order}) TO STDOUT WITH (FORMAT csv, HEADER true)`
  }
  const select = cols.map((c) => `${c.sql} AS "${c.name}"`).join(', ')
  return (
    `COPY (SELECT row_to_json(r)::text FROM (SELECT ${select} FROM ${table} WHERE ${where.join(' AND ')}${order}) r) ` +
    `TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')`
  )
}
