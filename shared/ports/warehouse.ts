import type { CostRow, Dimension, RejectedRow } from "#domain/cost-row.ts";
import type { Nanos } from "#domain/money.ts";

/** Half-open UTC range [from, to). */
export interface TimeRange {
  from: Date;
  to: Date;
}

export interface InsertResult {
  /** Rows newly stored. */
  inserted: number;
  /** Rows whose (event_source, event_id, part) was already stored or repeated within the batch. */
  duplicates: number;
}

export interface ReportQuery extends TimeRange {
  /** Group-by dimensions, in output order; empty means one total per currency. */
  by: readonly Dimension[];
}

export interface ReportRow {
  group: Partial<Record<Dimension, string | null>>;
  currency: string;
  cost_nanos: Nanos;
  /** Number of cost rows behind the figure. */
  rows: number;
}

/**
 * Where cost rows live. Raw rows go in by batch; reports read the hourly rollup, which
 * `refreshHourly` rebuilds for a range of hours from the raw rows (dedupe applied there too).
 */
export interface Warehouse {
  /** Creates what is missing (tables, views); safe to call on every start. */
  init(): Promise<void>;
  insertEvents(rows: readonly CostRow[]): Promise<InsertResult>;
  insertRejected(rows: readonly RejectedRow[]): Promise<void>;
  /** Recomputes cost_hourly for the whole hours in the range. */
  refreshHourly(range: TimeRange): Promise<void>;
  /** The span of event hours of rows ingested at or after `since`, or null if none: what a refresh must cover. */
  hoursIngestedSince(since: Date, lookback: TimeRange): Promise<TimeRange | null>;
  report(query: ReportQuery): Promise<ReportRow[]>;
  close(): Promise<void>;
}
