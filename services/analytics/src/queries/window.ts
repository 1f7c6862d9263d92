// An analytics window (half-open). How a window is split into rollup and history parts: parts.ts.

export interface Range {
  from: Date
  to: Date
}
