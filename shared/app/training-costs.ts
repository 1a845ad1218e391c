import type { JobCostLogger, JobCostLogResult } from "#domain/training/job-cost-logger.ts";
import {
  checkSilenceSeconds,
  DEFAULT_SILENCE_SECONDS,
  type JobSummary,
  type OutcomeTotals,
  summarizeByOutcome,
  summarizeJob,
  type TrainingJobRow,
} from "#domain/training/job-summary.ts";
import type { Clock } from "#ports/clock.ts";
import type { Logger } from "#ports/logger.ts";
import { silentLogger } from "#ports/logger.ts";
import type { TimeRange, TrainingJobsQuery } from "#ports/warehouse.ts";

/** One row of sql/<dialect>/training_jobs.sql: a training job as its events in the range describe it. */
export type JobRow = TrainingJobRow;

export interface TrainingCostsDeps {
  /** Runs the training_jobs query: Warehouse.trainingJobs. */
  readJobs: (query: TrainingJobsQuery) => Promise<JobRow[]>;
  clock: Clock;
  /** A job without a finished/failed event that has been silent this long is abandoned. Default 30 min. */
  silenceSeconds?: number;
  mlflow?: JobCostLogger;
  /** The MLflow experiment job costs are logged to. */
  experimentName?: string;
  /**
   * The MLflow run a job is, when it came from one (the MLflow import: the job id is the run id).
   * Its cost is logged to that run, and the run's own status stands: a job that looks abandoned
   * between two imports is left as running (its run is not closed), and its end comes from MLflow.
   */
  mlflowRunOf?: (job: JobSummary) => string | undefined;
  logger?: Logger;
}

export interface TrainingCostReport extends TimeRange {
  /** The instant outcomes were judged at: now, or the end of the range when that is earlier. */
  asOf: Date;
  jobs: JobSummary[];
  /** Cost per outcome, one entry per currency, with the abandoned share. */
  byOutcome: OutcomeTotals[];
}

export interface TrainingCostsSync {
  logged: { event_source: string; job_id: string; result: JobCostLogResult }[];
  /** Jobs still running: nothing to close yet, logged once they end. */
  running: number;
  /** Jobs the server refused for good (a bad value, a deleted experiment); retrying will not help. */
  refused: { event_source: string; job_id: string; error: Error }[];
}

export type TrainingCostsErrorCode = "invalid" | "not_configured";

export class TrainingCostsError extends Error {
  override readonly name = "TrainingCostsError";
  readonly code: TrainingCostsErrorCode;
  constructor(code: TrainingCostsErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

export interface TrainingCosts {
  /** Training jobs seen in [from, to), their summaries and the cost per outcome. */
  report(range: TimeRange): Promise<TrainingCostReport>;
  /**
   * Logs the cost of every job in the range that ended (finished, failed, abandoned) to MLflow, one
   * job after another. Safe to repeat: the logger finds each job's run again. A refusal for one job
   * is recorded and the others go on; a transient fault (retryable) stops the sync and is thrown,
   * so the scheduler's next run retries.
   */
  syncToMlflow(range: TimeRange): Promise<TrainingCostsSync>;
}

const DEFAULT_EXPERIMENT = "finops-training-cost";

function isRetryable(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { retryable?: unknown }).retryable === true;
}

export function createTrainingCosts({
  readJobs,
  clock,
  silenceSeconds = DEFAULT_SILENCE_SECONDS,
  mlflow,
  experimentName = DEFAULT_EXPERIMENT,
  mlflowRunOf = () => undefined,
  logger = silentLogger,
}: TrainingCostsDeps): TrainingCosts {
  try {
    checkSilenceSeconds(silenceSeconds);
  } catch (cause) {
    throw new TrainingCostsError("invalid", (cause as Error).message, { cause });
  }

  async function report(range: TimeRange): Promise<TrainingCostReport> {
    const from = range.from.getTime();
    const to = range.to.getTime();
    if (!Number.isFinite(from) || !Number.isFinite(to)) {
      throw new TrainingCostsError("invalid", "from and to must be valid dates");
    }
    if (to <= from) throw new TrainingCostsError("invalid", "to must be after from");
    // A job whose end came after the range would look abandoned if judged now: judge at the range's end.
    const asOf = new Date(Math.min(clock.now().getTime(), to));
    const rows = await readJobs({ from: range.from, to: range.to, now: asOf, silenceSeconds });
    const jobs = rows.map(summarizeJob);
    return { from: range.from, to: range.to, asOf, jobs, byOutcome: summarizeByOutcome(rows) };
  }

  return {
    report,

    async syncToMlflow(range) {
      if (!mlflow) throw new TrainingCostsError("not_configured", "no MLflow logger is configured");
      const { jobs } = await report(range);
      const sync: TrainingCostsSync = { logged: [], running: 0, refused: [] };
      for (const job of jobs) {
        const runId = mlflowRunOf(job);
        // An imported run ends when MLflow says so; until then the import keeps adding progress.
        if (job.outcome === "running" || (runId !== undefined && job.outcome === "abandoned")) {
          sync.running += 1;
          continue;
        }
        const who = { event_source: job.event_source, job_id: job.job_id };
        try {
          const result = await mlflow.logJobCost({
            experimentName,
            ...(runId === undefined ? {} : { runId }),
            summary: job,
            instance_type: job.instance_type,
            num_gpus: job.gpu_count,
            team: job.team,
            model: job.model,
          });
          sync.logged.push({ ...who, result });
          if (result.conflictingParams.length > 0) {
            logger.warn("mlflow run holds other param values; left as they were (write-once)", {
              ...who,
              conflicts: result.conflictingParams,
            });
          }
        } catch (error) {
          if (isRetryable(error) || !(error instanceof Error)) throw error;
          logger.warn("mlflow refused a job's cost", { ...who, error: error.message });
          sync.refused.push({ ...who, error });
        }
      }
      return sync;
    },
  };
}
