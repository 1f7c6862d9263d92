export { migrate, loadMigrations, MIGRATIONS_DIR, type Migration, type MigrateOptions } from './migrate.js'
export {
  PARTITIONED_TABLES,
  partitionFor,
  parsePartitionName,
  monthStart,
  monthsOf,
  retentionCutoff,
  type MonthPartition,
  type PartitionedTable,
} from './partition-names.js'
export {
  ensureMonths,
  listPartitions,
  dropExpired,
  PartitionManager,
  TABLES_OF_KIND,
  type PartitionManagerOptions,
} from './partitions.js'
export {
  GroupNotWritableError,
  writeMeterBatch,
  writeVehicleBatch,
  type WriteOptions,
  type WriteResult,
} from './write.js'
export {
  withClient,
  withReadSnapshot,
  withTransaction,
  TransactionAbortedError,
  type IsolationLevel,
  type TransactionOptions,
} from './transaction.js'
export {
  SQLSTATE,
  answeredByServer,
  describePgError,
  sqlStateOf,
  type PgErrorClass,
  type PgErrorInfo,
} from './pg-errors.js'
export {
  closeHours,
  readWatermark,
  setRollupMode,
  type CloseHoursOptions,
  type CloseHoursResult,
} from './rollups.js'
export { upsertAssignments, type AssignmentRow } from './assignments.js'
export { resolveTimeline, type SentAssignment, type TimelineInterval } from './assignment-timeline.js'
export { copyField, copyRow, decimalText, microsOf } from './copy-text.js'
export { LOCK_NAMESPACE, LOCKS } from './locks.js'
export {
  deriveRegisterEnergy,
  deriveRegisterEnergyAt,
  compareDecimal,
  subtractDecimal,
  type EnergyFlag,
  type RegisterPoint,
  type DerivedEnergy,
  type DeriveOptions,
} from './register-energy.js'
export { type RegisterKey } from './register-pass.js'
export type { DbClient, Queryable, ReadingKind, Decimal, MeterRow, VehicleRow } from './types.js'
export {
  addScaled,
  compareScaledProducts,
  parseScaledDecimal,
  scaledText,
  subtractScaled,
  type ScaledDecimal,
} from './decimal-sum.js'
