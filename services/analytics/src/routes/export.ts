import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from '@sinclair/typebox'
import { PassThrough, pipeline, type Readable } from 'node:stream'
import { constants, createGzip } from 'node:zlib'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import createError from '@fastify/error'
import { BadRequest } from '../errors.js'
import { EXPORT_COLUMNS, exportCopySql, type ExportFormat, type ExportKind } from '../queries/export.js'
import { errorResponses } from '../schemas.js'
import { resolveWindow } from '../window-params.js'

/** The longest delay a Node timer takes (about 24.8 days): "no limit" for a read timeout. */
const MAX_TIMER_MS = 2_147_483_647

export interface ExportOptions {
  now: () => number
  /** Longest export window (ANALYTICS_EXPORT_MAX_DAYS). */
  maxDays: number
  /** statement_timeout of one export's COPY (ANALYTICS_EXPORT_TIMEOUT_MS; 0 = none). */
  timeoutMs: number
  /** Exports running at once at most (ANALYTICS_EXPORT_MAX_CONCURRENT); each holds a pool connection. */
  maxConcurrent: number
}

const ExportBusy = createError(
  'ANALYTICS_EXPORT_BUSY',
  'at most %d exports run at once (each holds a replica connection); retry later',
  503,
)

const ID = /^[A-Za-z0-9._:-]+$/
const MAX_IDS = 1000

const columnsDoc = (kind: ExportKind) =>
  EXPORT_COLUMNS[kind].map((c) => `\`${c.name}\` (${c.doc})`).join(', ')

export const EXPORT_DESCRIPTION = `Streams raw readings from the read replica, as CSV (a header line, then one line per reading) or NDJSON (one JSON object per line, the same names).

* meter columns: ${columnsDoc('meter')}
* vehicle columns: ${columnsDoc('vehicle')}

Values are exactly as stored (no rounding). With \`ids\`, rows are ordered by device then time; without, they come in storage order (close to arrival order). The window is half-open \`[from, to)\`, at most ANALYTICS_EXPORT_MAX_DAYS (31) days. The body is gzip-compressed when the request sends \`Accept-Encoding: gzip\`. Closing the connection stops the query. At most ANALYTICS_EXPORT_MAX_CONCURRENT (2) exports run at once; another is a 503 to retry.`

const ExportQuerySchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('meter'), Type.Literal('vehicle')], {
      description: 'Which readings: meter (AC, voltage) or vehicle (SoC, DC, battery temperature)',
    }),
    from: Type.Optional(
      Type.String({ description: 'Window start, RFC 3339 with a zone (default: to - 24 h)' }),
    ),
    to: Type.Optional(Type.String({ description: 'Window end, exclusive (default: now, or from + 24 h)' })),
    ids: Type.Optional(
      Type.String({ maxLength: 200_000, description: `Comma-separated device ids (at most ${MAX_IDS})` }),
    ),
    format: Type.Optional(
      Type.Union([Type.Literal('csv'), Type.Literal('ndjson')], {
        default: 'csv',
        description: 'csv or ndjson',
      }),
    ),
  },
  { additionalProperties: false },
)

function parseIds(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined
  const ids = [...new Set(raw.split(',').map((s) => s.trim()))].filter((s) => s.length > 0)
  if (ids.length === 0) throw new BadRequest('ids: give at least one id, or leave ids out for every device')
  if (ids.length > MAX_IDS) throw new BadRequest(`ids: at most ${MAX_IDS} ids`)
  const bad = ids.find((id) => !ID.test(id) || id.length > 128)
  if (bad !== undefined)
    throw new BadRequest(`ids: "${bad.slice(0, 40)}" is not a device id ([A-Za-z0-9._:-]+)`)
  return ids.sort()
}

/** True when the client accepts gzip (`Accept-Encoding: gzip` or `*`, not with q=0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';')
    if (coding !== 'gzip' && coding !== '*' && coding !== 'x-gzip') return false
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    return q === undefined || Number(q.slice(2)) > 0
  })
}

const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')

const exportRouteSchema = {
  operationId: 'exportReadings',
  tags: ['export'],
  summary: 'Raw meter or vehicle readings of a window as CSV or NDJSON (streamed, optionally gzip)',
  description: EXPORT_DESCRIPTION,
  querystring: ExportQuerySchema,
  response: {
    200: {
      description: 'The readings (text/csv or application/x-ndjson)',
      content: {
        'text/csv': { schema: Type.String() },
        'application/x-ndjson': { schema: Type.String() },
      },
    },
    ...errorResponses,
  },
}

/** A running export: its COPY stream, and how to end it (once). */
interface ExportSession {
  copy: Readable
  /** Commits and returns the connection on success; otherwise closes it and cancels the query. */
  finish(ok: boolean): Promise<void>
}

interface SessionOptions {
  /** statement_timeout of the COPY (0 = none). */
  timeoutMs: number
  /** Cancels the query of backend `pid` from another connection. */
  cancel(pid: number): Promise<void>
  /** Runs once, when the export ends either way (or could not start). */
  onEnd(): void
}

/**
 * Checks a replica connection out, opens a read-only transaction on it and starts the COPY. The
 * transaction is handled here, not with withTransaction (@energy-ingest/db): that one ends the
 * transaction when its callback settles and answers a failure with ROLLBACK, while this one must
 * outlive the handler (it ends with the response stream), and an early end cannot send ROLLBACK: the
 * connection takes no other statement while the COPY runs, so it is closed instead (see finish).
 */
async function openExport(pool: pg.Pool, sql: string, opts: SessionOptions): Promise<ExportSession> {
  let client: pg.PoolClient
  try {
    client = await pool.connect()
  } catch (err) {
    opts.onEnd()
    throw err
  }
  let done = false
  /**
   * Ends the export once. A finished COPY commits and returns the connection to the pool. Any other
   * end (client gone, error) closes the connection's socket: a COPY blocked on sending to a client
   * that stopped reading fails at once (a cancel is not acted on while blocked); the cancel then
   * stops one still scanning without output. pg-copy-streams has no destroy of its own.
   */
  const finish = async (ok: boolean) => {
    if (done) return
    done = true
    opts.onEnd()
    if (ok) {
      try {
        await client.query('COMMIT')
        client.release()
      } catch (err) {
        client.release(err as Error)
      }
      return
    }
    const pid = (client as pg.PoolClient & { processID?: number }).processID
    client.connection.stream.destroy()
    client.release(new Error('export ended early'))
    if (pid !== undefined) await opts.cancel(pid)
  }
  try {
    await client.query('BEGIN READ ONLY')
    await client.query(`SET LOCAL statement_timeout = ${Math.max(0, Math.floor(opts.timeoutMs))}`)
    // The pool gives every query a client-side read timeout sized for the short route queries (the
    // statement timeout + 1 s); an export may run as long as its own statement timeout allows.
    const stream = Object.assign(copyTo(sql), {
      query_timeout: opts.timeoutMs > 0 ? opts.timeoutMs + 1_000 : MAX_TIMER_MS,
    })
    return { copy: client.query(stream), finish }
  } catch (err) {
    await finish(false)
    throw err
  }
}

function setExportHeaders(
  reply: FastifyReply,
  q: { kind: ExportKind; format: ExportFormat; window: { from: Date; to: Date }; gzip: boolean },
): void {
  const ext = q.format === 'csv' ? 'csv' : 'ndjson'
  const filename = `${q.kind}-readings_${stamp(q.window.from)}_${stamp(q.window.to)}.${ext}`
  void reply
    .header('content-type', q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .header('cache-control', 'no-store')
    .header('vary', 'accept-encoding')
  if (q.gzip) void reply.header('content-encoding', 'gzip')
}

/** GET /export/readings: raw history as a stream, memory-flat whatever its size. */
const exportRoutes: FastifyPluginAsyncTypebox<ExportOptions> = async (app, opts) => {
  const connectionString = (app.replica.options as pg.PoolConfig).connectionString
  let running = 0

  app.get('/export/readings', { schema: exportRouteSchema }, async (req, reply) => {
    const kind = req.query.kind
    const format: ExportFormat = req.query.format ?? 'csv'
    const window = resolveWindow(req.query, opts.now(), opts.maxDays)
    const ids = parseIds(req.query.ids)
    const sql = exportCopySql({ kind, format, window, ids })

    // Exports are long: cap them, so that they never take every connection the other routes need.
    if (running >= opts.maxConcurrent) throw new ExportBusy(opts.maxConcurrent)
    running++
    const { copy, finish } = await openExport(app.replica, sql, {
      timeoutMs: opts.timeoutMs,
      cancel: (pid) => cancelBackend(connectionString, pid, app.log),
      onEnd: () => running--,
    })

    const gzip = acceptsGzip(req.headers['accept-encoding'])
    setExportHeaders(reply, { kind, format, window, gzip })
    // The payload Fastify pipes into the response (with backpressure). Fastify destroys it when the
    // client goes away; pipeline then destroys the COPY stream, and onEnd below ends the query.
    const payload = new PassThrough({ highWaterMark: 64 * 1024 })
    // Success = the COPY was read to its end and handed on; an early end is an error here
    // (ERR_STREAM_PREMATURE_CLOSE when Fastify destroys the payload for a client that left).
    const onEnd = (err: Error | null | undefined) => {
      void finish(!err)
    }
    if (gzip) pipeline(copy, createGzip({ level: constants.Z_BEST_SPEED }), payload, onEnd)
    else pipeline(copy, payload, onEnd)
    // The typed reply knows only the JSON bodies of the schema; a stream is sent as is.
    return reply.send(payload as never)
  })
}

async function cancelBackend(
  connectionString: string | undefined,
  pid: number,
  log: { warn: (o: object, m: string) => void },
): Promise<void> {
  const c = new pg.Client({ connectionString, connectionTimeoutMillis: 3_000 })
  try {
    await c.connect()
    await c.query('SELECT pg_cancel_backend($1)', [pid])
  } catch (err) {
    log.warn({ err, pid }, 'could not cancel an aborted export query')
  } finally {
    await c.end().catch(() => undefined)
  }
}

export default exportRoutes
