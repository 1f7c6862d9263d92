import type { OpenApiOptions } from '@energy-ingest/service-kit'

const DESCRIPTION = `Analytics over the fleet's telemetry, served from a PostgreSQL read replica.

* Windows are half-open \`[from, to)\`; the default is the 24 h ending at the end of the current minute
  (every reading up to now, on whole minutes). \`from\`/\`to\` are RFC 3339 with a zone; a window is at
  most ANALYTICS_MAX_WINDOW_DAYS (31) days.
* Energy values are sums of **interval energies** (each reading carries the kWh since the device's
  previous reading). \`efficiencyRatio\` = DC delivered / AC consumed, \`null\` when AC is 0.
* Totals are exact: whole closed hours come from hourly rollups, partial hours from raw history, and
  the result equals the aggregate over raw history.
* \`asOf\`: everything committed on the primary before it is included (the later of the replica's last
  replayed commit and its replayed writer heartbeat); data committed after it may not be visible yet.
  A replica that cannot tell answers 503 instead.
* Time series (\`…/series\`): one point per \`bucket\` (15m, hour, day) of the local clock of \`tz\` (an
  IANA zone, default UTC; a DST day lasts 23 or 25 h); each point equals the raw-history aggregate of
  its bucket; at most ANALYTICS_SERIES_MAX_POINTS (2000) points.
* Export (\`/v1/export/readings\`): raw readings streamed as CSV or NDJSON; its description lists the
  columns and units.
* Authorization: \`Bearer <API key>\` (ANALYTICS_API_KEYS).`

/** The analytics service's OpenAPI document: its description and tags. */
export const openapiOptions: OpenApiOptions = {
  title: 'Energy analytics',
  description: DESCRIPTION,
  tags: {
    analytics: 'Totals, statistics and efficiency over a window',
    series: 'The same figures per time bucket',
    live: "A device's newest reading",
    export: 'Raw readings as a stream',
  },
}
