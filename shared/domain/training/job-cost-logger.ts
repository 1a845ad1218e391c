import type { JobSummary } from "./job-summary.ts";

/**
 * Where a training job's cost is written back for the people who run the job (an MLflow tracking
 * server: shared/adapters/mlflow). The port the training-costs use case depends on; it holds no I/O.
 */
export interface JobCostRun {
  experimentName: string;
  /** The job's own run, when the launcher knows it; otherwise the logger finds or creates one. */
  runId?: string;
  /** Name of a run the logger creates (default: the job id). */
  runName?: string;
  summary: JobSummary;
  instance_type: string | null;
  num_gpus: number | null;
  team: string;
  model: string;
  /** Further tags to set on the run (tags overwrite: last value wins). */
  tags?: Readonly<Record<string, string>>;
}

export interface ParamConflict {
  key: string;
  /** What the run already holds; params are write-once, so it stays. */
  logged: string;
  wanted: string;
}

export interface JobCostLogResult {
  experimentId: string;
  runId: string;
  /** True when this call created the run. */
  createdRun: boolean;
  /** Params the run already held with another value: left as they were (write-once), reported here. */
  conflictingParams: ParamConflict[];
  /** The status this call closed the run with, or null when it left the status alone. */
  status: "FINISHED" | "FAILED" | null;
}

export interface JobCostLogger {
  logJobCost(run: JobCostRun): Promise<JobCostLogResult>;
}
