import type { ClientBase } from 'pg'

/** A connected client that is not inside a transaction (functions here open their own). */
export type DbClient = ClientBase

/** Anything with `query` (a Pool or a client), for single statements. */
export type Queryable = Pick<ClientBase, 'query'>

export type ReadingKind = 'meter' | 'vehicle'

/** Numbers are written with their shortest exact decimal form; strings must already be decimals. */
export type Decimal = number | string

export interface MeterRow {
  meterId: string
  /** RFC 3339 UTC, up to microseconds (as normalised by contracts' parseTimestamp). */
  timestamp: string
  /** Interval energy (kWh since the previous reading). Exactly one of this and energyRegisterKwh. */
  kwhConsumedAc?: Decimal
  /** Cumulative register, kWh: the interval energy is derived in the write transaction. */
  energyRegisterKwh?: Decimal
  voltage: Decimal
  /** OCPP ReadingContext, when sent. */
  context?: string | null
  receivedAt?: string | null
}

export interface VehicleRow {
  vehicleId: string
  timestamp: string
  soc: Decimal
  kwhDeliveredDc: Decimal
  batteryTemp: Decimal
  receivedAt?: string | null
}
