import type pg from 'pg'

export interface MeterLive {
  meterId: string
  timestamp: string
  kwhConsumedAc: number
  voltage: number
  receivedAt: string | null
}

export interface VehicleLive {
  vehicleId: string
  timestamp: string
  soc: number
  kwhDeliveredDc: number
  batteryTemp: number
  receivedAt: string | null
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString())

export async function meterLive(
  db: pg.Pool | pg.ClientBase,
  meterId: string,
): Promise<MeterLive | undefined> {
  const { rows } = await db.query<{ ts: Date; kwh: string; voltage: string; received_at: Date | null }>(
    'SELECT ts, kwh_consumed_ac::text AS kwh, voltage::text AS voltage, received_at FROM meter_live WHERE meter_id = $1',
    [meterId],
  )
  const r = rows[0]
  if (!r) return undefined
  return {
    meterId,
    timestamp: r.ts.toISOString(),
    kwhConsumedAc: Number(r.kwh),
    voltage: Number(r.voltage),
    receivedAt: iso(r.received_at),
  }
}

export async function vehicleLive(
  db: pg.Pool | pg.ClientBase,
  vehicleId: string,
): Promise<VehicleLive | undefined> {
  const { rows } = await db.query<{
    ts: Date
    soc: string
    kwh: string
    temp: string
    received_at: Date | null
  }>(
    `SELECT ts, soc::text AS soc, kwh_delivered_dc::text AS kwh, battery_temp::text AS temp, received_at
       FROM vehicle_live WHERE vehicle_id = $1`,
    [vehicleId],
  )
  const r = rows[0]
  if (!r) return undefined
  return {
    vehicleId,
    timestamp: r.ts.toISOString(),
    soc: Number(r.soc),
    kwhDeliveredDc: Number(r.kwh),
    batteryTemp: Number(r.temp),
    receivedAt: iso(r.received_at),
  }
}
