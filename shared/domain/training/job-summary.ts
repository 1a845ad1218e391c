import type { CostRow } from "#domain/cost-row.ts";
import { TRAINING_V1 } from "#domain/events/training.ts";
import { divRound, type Nanos } from "#domain/money.ts";

/**
 * Training jobs, one summary per job, from the job's training cost rows. Pure: the twin of
 * sql/<dialect>/training_jobs.sql, which must give the same rows for the same stored events.
 *
 * A training row carries the job's CUMULATIVE cost up to its event and its cumulative elapsed time.
 * The hourly rollup charges each row the difference to the job's previous row in the order
 * (elapsed_seconds, event_time, event_id), the first row its whole cost; those charges add up to the
 * cumulative cost of the job's LAST row in that order. That is the job's cost here, so a job report
 * and the rollup agree to the nano. It equals the highest cumulative cost whenever the cost grows
 * with elapsed time (always so for catalog pricing at a constant GPU count); where an emitter sends a
 * lower figure later, the rollup credits the difference and so does this.
 */

export const TRAINING_OUTCOMES = ["finished", "failed", "running", "abandoned"] as const;
export type TrainingOutcome = (typeof TRAINING_OUTCOMES)[number];

/** A job that sent no finished/failed event and nothing for this long is abandoned. */
export const DEFAULT_SILENCE_SECONDS = 30 * 60;

/** The columns of a stored cost row a job summary reads; a CostRow fits as it is. */
export type TrainingEventRow = Pick<
  CostRow,
  | "event_id"
  | "event_source"
  | "event_type"
  | "part"
  | "event_time"
  | "ingested_at"
  | "team"
  | "model"
  | "business_unit"
  | "currency"
  | "instance_type"
  | "job_id"
  | "job_phase"
  | "epoch"
  | "elapsed_seconds"
  | "gpu_count"
  | "cost_nanos"
>;

/**
 * One training job as training_jobs.sql returns it: what the events of one (event_source, job_id)
 * inside the queried time range say. A job that started before the range shows its first event in
 * the range as `started_at`, and its cumulative cost (which includes what it cost before the range).
 */
export interface TrainingJobRow {
  event_source: string;
  job_id: string;
  /** Owner and placement as the job's last event (in the rollup's order) names them. */
  team: string;
  model: string;
  business_unit: string;
  instance_type: string | null;
  currency: string;
  /** The earliest and latest event times seen. */
  started_at: Date;
  last_seen_at: Date;
  /** The highest elapsed time reported (elapsed_seconds is cumulative since the job started). */
  duration_seconds: number;
  /** The highest GPU count reported; null when no event named one. */
  gpu_count: number | null;
  /** The highest epoch reported (epoch n = n epochs done); null when no event named one. */
  epochs: number | null;
  /** What the rollup charges for the job in total: the cumulative cost of its last event. */
  cost_nanos: Nanos;
  outcome: TrainingOutcome;
}

export interface JobSummary extends TrainingJobRow {
  /** gpu_count × duration in hours, for display only; null without a GPU count. */
  gpu_hours: number | null;
  /** cost_nanos / epochs rounded half away from zero; null when no epoch was reported (or 0). */
  cost_per_epoch_nanos: Nanos | null;
}

export interface OutcomeTotal {
  jobs: number;
  cost_nanos: Nanos;
}

/** Training cost of a set of jobs by outcome, for one currency. */
export interface OutcomeTotals {
  currency: string;
  jobs: number;
  cost_nanos: Nanos;
  by_outcome: Record<TrainingOutcome, OutcomeTotal>;
  /**
   * Abandoned cost / total cost, rounded half away from zero to six decimals (0.4 = 40%); for display.
   * Null when the total is zero.
   */
  abandoned_share: number | null;
}

export interface JobOutcomeOptions {
  /** The instant outcomes are judged at. */
  now: Date;
  /** Silence after which a job without an end event is abandoned; whole seconds, default 30 min. */
  silenceSeconds?: number;
}

export class TrainingSummaryError extends Error {
  override readonly name = "TrainingSummaryError";
  readonly code = "invalid";
}

/** Whole non-negative seconds: BigQuery's INTERVAL takes an INT64, so both twins take the same. */
export function checkSilenceSeconds(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TrainingSummaryError(`silenceSeconds must be a whole number of seconds >= 0, got ${value}`);
  }
  return value;
}

/**
 * finished/failed when the job said so; otherwise abandoned once it has been silent for longer than
 * `silenceSeconds` before `now` (last_seen_at < now − silence), else running. An abandoned job keeps
 * the cost it ran up: nothing is added for the silence.
 */
export function jobOutcome(
  endPhase: "finished" | "failed" | null,
  lastSeenAt: Date,
  now: Date,
  silenceSeconds: number = DEFAULT_SILENCE_SECONDS,
): TrainingOutcome {
  if (endPhase !== null) return endPhase;
  return lastSeenAt.getTime() < now.getTime() - silenceSeconds * 1000 ? "abandoned" : "running";
}

/** Orders strings by code point, as the warehouses order VARCHAR/STRING (UTF-8 bytes), not UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const diff = (x.value.codePointAt(0) ?? 0) - (y.value.codePointAt(0) ?? 0);
    if (diff !== 0) return diff;
  }
}

type UsableRow = TrainingEventRow & { job_id: string; elapsed_seconds: number };

/** The rollup's order of a job's rows: elapsed time, then event time, then event id. */
function compareProgress(a: UsableRow, b: UsableRow): number {
  if (a.elapsed_seconds !== b.elapsed_seconds) return a.elapsed_seconds < b.elapsed_seconds ? -1 : 1;
  const time = a.event_time.getTime() - b.event_time.getTime();
  if (time !== 0) return time;
  return compareCodePoints(a.event_id, b.event_id);
}

const isEnd = (phase: string | null): phase is "finished" | "failed" =>
  phase === "finished" || phase === "failed";

const maxOrNull = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.max(a, b);

/** The first ingested copy of each (event_source, event_id, part) among the training rows with a job. */
function uniqueTrainingRows(events: Iterable<TrainingEventRow>): UsableRow[] {
  const kept = new Map<string, UsableRow>();
  for (const event of events) {
    if (event.event_type !== TRAINING_V1 || event.job_id === null || event.elapsed_seconds === null) continue;
    const key = JSON.stringify([event.event_source, event.event_id, event.part]);
    const seen = kept.get(key);
    if (seen === undefined || event.ingested_at.getTime() < seen.ingested_at.getTime()) {
      kept.set(key, event as UsableRow);
    }
  }
  return [...kept.values()];
}

interface JobAccumulator {
  last: UsableRow;
  lastEnd: UsableRow | null;
  startedAt: number;
  lastSeenAt: number;
  durationSeconds: number;
  gpuCount: number | null;
  epochs: number | null;
}

/**
 * The jobs in `events`, one row each, exactly as training_jobs.sql computes them from the same stored
 * rows: non-training rows are ignored, copies of a key count once (the first ingested), and neither
 * the order of `events` nor repeats change the result. Ordered by started_at, event_source, job_id.
 */
export function trainingJobRows(
  events: Iterable<TrainingEventRow>,
  options: JobOutcomeOptions,
): TrainingJobRow[] {
  const silenceSeconds = checkSilenceSeconds(options.silenceSeconds ?? DEFAULT_SILENCE_SECONDS);
  const jobs = new Map<string, JobAccumulator>();
  for (const row of uniqueTrainingRows(events)) {
    const key = JSON.stringify([row.event_source, row.job_id]);
    const time = row.event_time.getTime();
    const job = jobs.get(key);
    if (job === undefined) {
      jobs.set(key, {
        last: row,
        lastEnd: isEnd(row.job_phase) ? row : null,
        startedAt: time,
        lastSeenAt: time,
        durationSeconds: row.elapsed_seconds,
        gpuCount: row.gpu_count,
        epochs: row.epoch,
      });
      continue;
    }
    if (compareProgress(row, job.last) > 0) job.last = row;
    if (isEnd(row.job_phase) && (job.lastEnd === null || compareProgress(row, job.lastEnd) > 0)) {
      job.lastEnd = row;
    }
    job.startedAt = Math.min(job.startedAt, time);
    job.lastSeenAt = Math.max(job.lastSeenAt, time);
    job.durationSeconds = Math.max(job.durationSeconds, row.elapsed_seconds);
    job.gpuCount = maxOrNull(job.gpuCount, row.gpu_count);
    job.epochs = maxOrNull(job.epochs, row.epoch);
  }
  const rows = [...jobs.values()].map((job): TrainingJobRow => {
    const last = job.last;
    const lastSeenAt = new Date(job.lastSeenAt);
    const endPhase = job.lastEnd === null ? null : (job.lastEnd.job_phase as "finished" | "failed");
    return {
      event_source: last.event_source,
      job_id: last.job_id,
      team: last.team,
      model: last.model,
      business_unit: last.business_unit,
      instance_type: last.instance_type,
      currency: last.currency,
      started_at: new Date(job.startedAt),
      last_seen_at: lastSeenAt,
      duration_seconds: job.durationSeconds,
      gpu_count: job.gpuCount,
      epochs: job.epochs,
      cost_nanos: last.cost_nanos,
      outcome: jobOutcome(endPhase, lastSeenAt, options.now, silenceSeconds),
    };
  });
  return rows.sort(
    (a, b) =>
      a.started_at.getTime() - b.started_at.getTime() ||
      compareCodePoints(a.event_source, b.event_source) ||
      compareCodePoints(a.job_id, b.job_id),
  );
}

/** Adds what is derived from a job row: GPU-hours (display) and the exact cost per epoch. */
export function summarizeJob(row: TrainingJobRow): JobSummary {
  return {
    ...row,
    gpu_hours: row.gpu_count === null ? null : (row.gpu_count * row.duration_seconds) / 3600,
    cost_per_epoch_nanos:
      row.epochs === null || row.epochs <= 0 ? null : divRound(row.cost_nanos, BigInt(row.epochs)),
  };
}

/** trainingJobRows then summarizeJob: the summaries of the jobs in `events`. */
export function summarizeJobs(events: Iterable<TrainingEventRow>, options: JobOutcomeOptions): JobSummary[] {
  return trainingJobRows(events, options).map(summarizeJob);
}

const SHARE_SCALE = 1_000_000n;

/**
 * Cost and job count per outcome, one entry per currency (sorted by currency), with the share of the
 * cost that abandoned jobs ran up. Exact sums; only the share is a rounded number.
 */
export function summarizeByOutcome(jobs: readonly TrainingJobRow[]): OutcomeTotals[] {
  const byCurrency = new Map<string, OutcomeTotals>();
  for (const job of jobs) {
    let totals = byCurrency.get(job.currency);
    if (totals === undefined) {
      const byOutcome = {} as Record<TrainingOutcome, OutcomeTotal>;
      for (const outcome of TRAINING_OUTCOMES) byOutcome[outcome] = { jobs: 0, cost_nanos: 0n };
      totals = {
        currency: job.currency,
        jobs: 0,
        cost_nanos: 0n,
        by_outcome: byOutcome,
        abandoned_share: null,
      };
      byCurrency.set(job.currency, totals);
    }
    totals.jobs += 1;
    totals.cost_nanos += job.cost_nanos;
    totals.by_outcome[job.outcome].jobs += 1;
    totals.by_outcome[job.outcome].cost_nanos += job.cost_nanos;
  }
  return [...byCurrency.values()]
    .map((totals) => ({
      ...totals,
      abandoned_share:
        totals.cost_nanos === 0n
          ? null
          : Number(divRound(totals.by_outcome.abandoned.cost_nanos * SHARE_SCALE, totals.cost_nanos)) /
            Number(SHARE_SCALE),
    }))
    .sort((a, b) => compareCodePoints(a.currency, b.currency));
}
