// The end-to-end bench's baseline: how fast this machine's PostgreSQL takes a plain COPY of vehicle
// readings into vehicle_history (its partitions and indexes, nothing else), measured in the same run
// as the pipeline, so that stored readings/s can be read as a share of it on any machine. The rows
// use device ids of their own and are deleted afterwards.
import type pg from 'pg'
import { copyVehicleRowsRaw } from '@energy-ingest/db/internal'
import { withTransaction, type VehicleRow } from '@energy-ingest/db'

const PREFIX = 'BENCH-RAW-COPY-'

export interface RawCopyResult {
  rows: number
  seconds: number
  rowsPerS: number
}

/**
 * COPYs `rows` vehicle readings in batches of `batchSize` (each in its own transaction, as the writer
 * commits a batch), then deletes them. Timestamps are in the hour before `nowMs`, one device per row
 * of a batch, so rows land where the pipeline's did.
 */
export async function measureRawCopy(
  client: pg.Client,
  { rows, batchSize, nowMs }: { rows: number; batchSize: number; nowMs: number },
): Promise<RawCopyResult> {
  const batches: VehicleRow[][] = []
  for (let start = 0; start < rows; start += batchSize) {
    const n = Math.min(batchSize, rows - start)
    batches.push(
      Array.from({ length: n }, (_, i) => ({
        vehicleId: `${PREFIX}${i}`,
        timestamp: new Date(nowMs - 3_600_000 + Math.floor(start / batchSize) * 1000).toISOString(),
        soc: 50 + (i % 50),
        kwhDeliveredDc: ((i % 997) + 1) / 1000,
        batteryTemp: 20 + (i % 150) / 10,
      })),
    )
  }
  try {
    const t0 = performance.now()
    for (const batch of batches) await withTransaction(client, () => copyVehicleRowsRaw(client, batch))
    const seconds = (performance.now() - t0) / 1000
    return { rows, seconds, rowsPerS: rows / seconds }
  } finally {
    await client.query(`DELETE FROM vehicle_history WHERE vehicle_id LIKE '${PREFIX}%'`)
  }
}
