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
  /**
   * Rows of events already stored with another payload (`payload_hash`), by index into the batch,
   * each with the hash of the stored copy: not stored, since the first copy stays the one counted.
   * An adapter that cannot look up stored keys cheaply (BigQuery) names none here.
   */
  conflictRows: ReadonlyMap<number, string | null>;
}

/** A copy of a stored event that came again with another payload, kept for an operator to compare. */
export interface ConflictRow {
  received_at: Date;
  event_source: string;
  event_id: string;
  event_type: string | null;
  /** payload_hash of the stored (counted) copy; its rows are in cost_events. */
  stored_hash: string | null;
  received_hash: string;
  /** The copy refused, as received (truncated like a rejected payload). */
  payload: string;
}

/**
 * What a report reads, chosen by every caller:
 * - `live`: the hours the rollup has settled, and the hours written since their last refresh (the
 *   live tail, backfilled hours included) computed from the raw events as that refresh will compute
 *   them, so an event shows as soon as it is stored and an hour's figures do not move when it is
 *   refreshed. What people look at: the dashboard, costReport, `finops report`.
 * - `rollup`: the rollup alone, as the last refresh left it. What judges whole hours: budget
 *   evaluation, anomalies, digests, so an alert fires on figures the refresh has settled.
 */
export type ReportReads = "live" | "rollup";

export interface ReportQuery extends TimeRange {
  /** Group-by dimensions, in output order; empty means one total per currency. */
  by: readonly GroupKey[];
  reads: ReportReads;
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
 * Where cost rows live. Raw rows go in by batch; reports read the hourly rollup, and live reports
 * the hours not yet refreshed from the raw rows beside it (ReportReads). Every insert also
 * records, durably and before it returns, the hours it wrote; `refreshPending` rebuilds exactly
 * those hours and only then forgets them, so a row acknowledged once reaches the rollup whatever
 * crash, rerun or downtime comes between.
 */
export interface Warehouse {
  /** Named queries over the warehouse's tables, for the stores and views that live beside it. */
  readonly sql: SqlRunner;
  /** Creates what is missing (tables, views); safe to call on every start. */
  init(): Promise<void>;
  insertEvents(rows: readonly CostRow[]): Promise<InsertResult>;
  /** Stores rejections, skipping those whose `rejection_key` is already stored. */
  insertRejected(rows: readonly RejectedRow[]): Promise<void>;
  /** Which of these rejection keys are already stored (a redelivery of input already refused). */
  knownRejections(keys: readonly string[]): Promise<Set<string>>;
  insertConflicts(rows: readonly ConflictRow[]): Promise<void>;
  /** Recomputes cost_hourly for the whole hours in the range. */
  refreshHourly(range: TimeRange): Promise<void>;
  /**
   * Rebuilds cost_hourly for every hour written since the last refresh (and, for training rows,
   * their jobs' later hours), then forgets those hours; returns the ranges rebuilt, oldest first.
   */
  refreshPending(now: Date): Promise<TimeRange[]>;
  /** Throws a WarehouseError `unavailable` when the warehouse cannot take a write now (disk, lock, I/O). */
  checkWritable(): Promise<void>;
  report(query: ReportQuery): Promise<ReportRow[]>;
  /** One row per training job (the training_jobs query), its cost as the rollup charges it. */
  trainingJobs(query: TrainingJobsQuery): Promise<TrainingJobRow[]>;
  close(): Promise<void>;
}
