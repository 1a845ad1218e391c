import type { CostRow, GroupKey, RejectedRow } from "#domain/cost-row.ts";
import type { Nanos } from "#domain/money.ts";
import type { TrainingJobRow } from "#domain/training/job-summary.ts";
import type { SqlRunner } from "./sql-runner.ts";

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
  /**
   * Which input rows those were, by index into the batch (`duplicates` of them): a row whose key was
   * already stored, or a copy of a key repeated within the batch that was not the one kept. What
   * the caller needs to tell, event by event, what was new. Empty when nothing was a duplicate.
   * An adapter that cannot tell cheaply what is already stored (BigQuery's streaming inserts) names
   * only the repeats within the batch, and leaves later copies to the rollup's dedupe.
   */
  duplicateRows: ReadonlySet<number>;
}

export interface ReportQuery extends TimeRange {
  /** Group-by dimensions, in output order; empty means one total per currency. */
  by: readonly GroupKey[];
}

export interface ReportRow {
  group: Partial<Record<GroupKey, string | null>>;
  currency: string;
  cost_nanos: Nanos;
  /** Number of cost rows behind the figure. */
  rows: number;
}

/** Training jobs with events in [from, to); a job silent since `now − silenceSeconds` is abandoned. */
export interface TrainingJobsQuery extends TimeRange {
  now: Date;
  silenceSeconds: number;
}

/**
 * Where cost rows live. Raw rows go in by batch; reports read the hourly rollup, which
 * `refreshHourly` rebuilds for a range of hours from the raw rows (dedupe applied there too).
 */
export interface Warehouse {
  /** Named queries over the warehouse's tables, for the stores and views that live beside it. */
  readonly sql: SqlRunner;
  /** Creates what is missing (tables, views); safe to call on every start. */
  init(): Promise<void>;
  insertEvents(rows: readonly CostRow[]): Promise<InsertResult>;
  insertRejected(rows: readonly RejectedRow[]): Promise<void>;
  /** Recomputes cost_hourly for the whole hours in the range. */
  refreshHourly(range: TimeRange): Promise<void>;
  /** The span of event hours of rows ingested at or after `since`, or null if none: what a refresh must cover. */
  hoursIngestedSince(since: Date, lookback: TimeRange): Promise<TimeRange | null>;
  report(query: ReportQuery): Promise<ReportRow[]>;
  /** One row per training job (the training_jobs query), its cost as the rollup charges it. */
  trainingJobs(query: TrainingJobsQuery): Promise<TrainingJobRow[]>;
  close(): Promise<void>;
}
