/** Kafka topic names: `<domain>.<event>.v<N>`. A prefix isolates tests and tenants on one cluster. */
export interface TopicNames {
  meter: string
  vehicle: string
  assignments: string
  dlq: string
}

export function topicNames(prefix = ''): TopicNames {
  return {
    meter: `${prefix}telemetry.meter.v1`,
    vehicle: `${prefix}telemetry.vehicle.v1`,
    assignments: `${prefix}fleet.assignments.v1`,
    dlq: `${prefix}telemetry.dlq.v1`,
  }
}

/** Default partition count of the telemetry topics: the ceiling on writer parallelism. */
export const DEFAULT_PARTITIONS = 12
