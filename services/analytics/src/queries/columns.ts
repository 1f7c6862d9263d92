/**
 * An object read from a result row: each field is the column named for it (after `prefix`), as pg
 * returns it. The field types are the caller's word for what the statement's columns hold.
 */
export const fromColumns =
  <T>(columns: Record<keyof T, string>, prefix = '') =>
  (r: Record<string, unknown>): T =>
    Object.fromEntries(
      Object.entries<string>(columns).map(([field, column]) => [field, r[`${prefix}${column}`]]),
    ) as T
