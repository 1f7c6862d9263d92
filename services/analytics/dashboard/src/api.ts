// The dashboard reads only the public analytics API, with the key the user entered (kept in this
// tab's sessionStorage, never in a cookie or localStorage).

const KEY_STORAGE = 'energy-analytics-key'

export const apiKey = {
  get: (): string | null => sessionStorage.getItem(KEY_STORAGE),
  set: (key: string) => sessionStorage.setItem(KEY_STORAGE, key),
  clear: () => sessionStorage.removeItem(KEY_STORAGE),
}

/** An answer other than 2xx: the status and the API's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message)
  }
}

export async function api<T>(path: string, params: Record<string, string | undefined> = {}): Promise<T> {
  const key = apiKey.get()
  if (key === null) throw new ApiError(401, 'no API key entered')
  const query = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, v)
  const qs = query.toString()
  let res: Response
  try {
    res = await fetch(`${path}${qs ? `?${qs}` : ''}`, {
      headers: { authorization: `Bearer ${key}`, accept: 'application/json' },
      cache: 'no-store',
    })
  } catch (err) {
    throw new ApiError(0, `the analytics service did not answer (${(err as Error).message})`)
  }
  if (!res.ok) {
    let message = res.statusText
    let code: string | undefined
    try {
      const body = (await res.json()) as { message?: string; code?: string }
      message = body.message ?? message
      code = body.code
    } catch {
      // not JSON: keep the status text
    }
    throw new ApiError(res.status, message, code)
  }
  return (await res.json()) as T
}

// The answers the dashboard uses (a subset of each route's fields).
export interface FleetSummary {
  windowStart: string
  windowEnd: string
  asOf: string
  meters: { active: number; totalAcConsumed: number; readings: number }
  vehicles: { active: number; totalDcDelivered: number; readings: number; avgBatteryTemp: number | null }
  fleetEfficiencyRatio: number | null
  vehiclesBelowThreshold: number
  threshold: number
}

export interface SeriesPoint {
  start: string
  end: string
  totalAcConsumed: number
  totalDcDelivered: number
  efficiencyRatio: number | null
}

export interface FleetSeries {
  tz: string
  asOf: string
  points: (SeriesPoint & { avgBatteryTemp: number | null })[]
}

export interface VehicleSeries {
  vehicleId: string
  meterIds: string[]
  tz: string
  asOf: string
  points: (SeriesPoint & {
    batteryTemp: { avg: number | null; max: number | null }
    soc: { first: number | null; last: number | null }
    readings: { vehicle: number; meter: number }
  })[]
}

export interface Alerts {
  windowStart: string
  windowEnd: string
  asOf: string
  threshold: number
  total: number
  items: { vehicleId: string; efficiencyRatio: number; totalDcDelivered: number; totalAcConsumed: number }[]
}

export interface Performance {
  vehicleId: string
  meterIds: string[]
  windowStart: string
  windowEnd: string
  asOf: string
  totalAcConsumed: number
  totalDcDelivered: number
  efficiencyRatio: number | null
  avgBatteryTemp: number | null
  readings: { vehicle: number; meter: number }
}

export interface VehicleLive {
  vehicleId: string
  timestamp: string
  soc: number
  kwhDeliveredDc: number
  batteryTemp: number
  receivedAt: string | null
}
