// Advisory lock keys, two-int form: (LOCK_NAMESPACE, key). One place, so no two features collide.
export const LOCK_NAMESPACE = 0x45_4e_45_52 // 'ENER'

export const LOCKS = {
  migrations: 1,
  partitions: 2,
  /** Session lock of a retention run (detach + drop of expired months): one process at a time. */
  retention: 3,
  /** Writers hold it shared per write transaction; closeHours() takes it exclusively. */
  meterRollup: 10,
  vehicleRollup: 11,
  /** Lets one closeHours() per kind run at a time, without queueing behind another. */
  meterCloser: 12,
  vehicleCloser: 13,
  /** upsertAssignments() holds it per transaction: one recomputation of a vehicle's timeline at a time. */
  assignments: 14,
} as const
