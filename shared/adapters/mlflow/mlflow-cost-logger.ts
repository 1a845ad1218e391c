import { createHash } from "node:crypto";
import { z } from "zod";
import { nanosToDecimal } from "#domain/money.ts";
import type {
  JobCostLogger,
  JobCostLogResult,
  JobCostRun,
  ParamConflict,
} from "#domain/training/job-cost-logger.ts";
import {
  type KeyValue,
  LOG_BATCH_LIMITS,
  type LogBatchLimits,
  type Metric,
  planLogBatches,
} from "./log-batch.ts";
import { LOCAL_ERROR_CODES, MlflowError } from "./mlflow-error.ts";
import {
  createMlflowCall,
  experimentResponse,
  type MlflowHttpOptions,
  type MlflowRun,
  mlflowId,
  runIdOf,
  runResponse,
  searchResponse,
} from "./mlflow-http.ts";

export interface MlflowCostLoggerOptions extends MlflowHttpOptions {
  /** runs/log-batch limits; lower maxParamValueLength to 500 for an old server. */
  limits?: LogBatchLimits;
}

/** Tags the logger sets on a run it creates; `finops.job_key` is what finds the run again. */
export const JOB_TAGS = {
  jobKey: "finops.job_key",
  jobId: "finops.job_id",
  eventSource: "finops.event_source",
  outcome: "finops.outcome",
} as const;

export const METRIC_KEYS = {
  cost: "training_cost_usd",
  durationMinutes: "duration_minutes",
  costPerEpoch: "cost_per_epoch",
  gpuHours: "gpu_hours",
} as const;

const createExperimentResponse = z.object({ experiment_id: mlflowId });

const OPEN_STATUSES = new Set(["RUNNING", "SCHEDULED"]);

/** A stable, quote-free key for a job (a filter string cannot escape quotes reliably). */
export function jobKey(eventSource: string, jobId: string): string {
  return createHash("sha256")
    .update(JSON.stringify([eventSource, jobId]))
    .digest("hex")
    .slice(0, 32);
}

/** Nanos as a double of currency units: display only, the exact figure stays in the warehouse. */
const units = (nanos: bigint) => Number(nanosToDecimal(nanos));

/**
 * Writes a training job's cost to MLflow: finds (or creates) the experiment by name, finds the job's
 * run (the given runId, else the run tagged with the job's key, else a new one), logs metrics,
 * params and tags in as few runs/log-batch requests as the limits allow, and closes the run when
 * the job ended. Calling it again for the same job reuses the run: safe to retry.
 *
 * Params are write-once on the server (another value for a logged key is INVALID_PARAMETER_VALUE),
 * so the logger compares before writing: on a run it created it logs them all; on an existing run
 * it logs only the keys the run does not hold yet, skips equal values, and reports (never sends)
 * different ones in `conflictingParams`. Metrics append: the points carry the job's last-seen time
 * as timestamp, so a repeat logs the same point again, not a new one.
 */
export function createMlflowCostLogger(options: MlflowCostLoggerOptions): JobCostLogger {
  const limits = options.limits ?? LOG_BATCH_LIMITS;
  const call = createMlflowCall(options);
  const experiments = new Map<string, Promise<string>>();

  async function getExperimentId(name: string): Promise<string> {
    const { experiment } = await call("GET", "experiments/get-by-name", experimentResponse, {
      experiment_name: name,
    });
    if (experiment.lifecycle_stage === "deleted") {
      throw new MlflowError(
        LOCAL_ERROR_CODES.experimentDeleted,
        `experiment ${JSON.stringify(name)} is deleted: restore it or pick another name`,
      );
    }
    return experiment.experiment_id;
  }

  /** get-by-name answers 404 RESOURCE_DOES_NOT_EXIST for a missing name: create it, and if another
   * writer created it meanwhile (RESOURCE_ALREADY_EXISTS), read it again. */
  async function findOrCreateExperiment(name: string): Promise<string> {
    try {
      return await getExperimentId(name);
    } catch (error) {
      if (!(error instanceof MlflowError) || error.code !== "RESOURCE_DOES_NOT_EXIST") throw error;
    }
    try {
      const created = await call("POST", "experiments/create", createExperimentResponse, { name });
      return created.experiment_id;
    } catch (error) {
      if (!(error instanceof MlflowError) || error.code !== "RESOURCE_ALREADY_EXISTS") throw error;
      return getExperimentId(name);
    }
  }

  function experimentId(name: string): Promise<string> {
    let found = experiments.get(name);
    if (found === undefined) {
      found = findOrCreateExperiment(name);
      experiments.set(name, found);
      found.catch(() => experiments.delete(name));
    }
    return found;
  }

  async function findRun(experiment: string, key: string): Promise<MlflowRun | null> {
    const { runs } = await call("POST", "runs/search", searchResponse, {
      experiment_ids: [experiment],
      filter: `tags.\`${JOB_TAGS.jobKey}\` = '${key}'`,
      run_view_type: "ACTIVE_ONLY",
      max_results: 1,
    });
    return runs[0] ?? null;
  }

  return {
    async logJobCost(run: JobCostRun): Promise<JobCostLogResult> {
      const summary = run.summary;
      if (summary.currency !== "USD") {
        throw new MlflowError(
          LOCAL_ERROR_CODES.invalidArgument,
          `job ${summary.job_id} is priced in ${summary.currency}; the MLflow metrics are in USD`,
        );
      }
      const key = jobKey(summary.event_source, summary.job_id);
      const experiment = await experimentId(run.experimentName);

      let existing: MlflowRun | null;
      if (run.runId !== undefined) {
        existing = (await call("GET", "runs/get", runResponse, { run_id: run.runId })).run;
      } else {
        existing = await findRun(experiment, key);
      }
      let target: MlflowRun;
      if (existing === null) {
        const created = await call("POST", "runs/create", runResponse, {
          experiment_id: experiment,
          run_name: run.runName ?? summary.job_id,
          start_time: summary.started_at.getTime(),
          // The key goes in with the run, so a retry after a failed log-batch finds this run.
          tags: [
            { key: JOB_TAGS.jobKey, value: key },
            { key: JOB_TAGS.jobId, value: summary.job_id },
            { key: JOB_TAGS.eventSource, value: summary.event_source },
          ],
        });
        target = created.run;
      } else {
        target = existing;
      }
      const runId = runIdOf(target);

      const wanted: KeyValue[] = [];
      if (run.instance_type !== null) wanted.push({ key: "instance_type", value: run.instance_type });
      if (run.num_gpus !== null) wanted.push({ key: "num_gpus", value: String(run.num_gpus) });
      const held = new Map(target.data.params.map((p) => [p.key, p.value]));
      const conflictingParams: ParamConflict[] = [];
      const params = wanted.filter((param) => {
        const logged = held.get(param.key);
        if (logged === undefined) return true;
        if (logged !== param.value) conflictingParams.push({ key: param.key, logged, wanted: param.value });
        return false;
      });

      const timestamp = summary.last_seen_at.getTime();
      const metric = (metricKey: string, value: number): Metric => ({
        key: metricKey,
        value,
        timestamp,
        step: 0,
      });
      const metrics: Metric[] = [
        metric(METRIC_KEYS.cost, units(summary.cost_nanos)),
        metric(METRIC_KEYS.durationMinutes, summary.duration_seconds / 60),
      ];
      if (summary.cost_per_epoch_nanos !== null) {
        metrics.push(metric(METRIC_KEYS.costPerEpoch, units(summary.cost_per_epoch_nanos)));
      }
      if (summary.gpu_hours !== null) metrics.push(metric(METRIC_KEYS.gpuHours, summary.gpu_hours));
      const tags: KeyValue[] = [
        ...Object.entries(run.tags ?? {}).map(([tagKey, value]) => ({ key: tagKey, value })),
        { key: "team", value: run.team },
        { key: "model", value: run.model },
        { key: JOB_TAGS.outcome, value: summary.outcome },
      ];
      for (const batch of planLogBatches(runId, { metrics, params, tags }, limits)) {
        await call("POST", "runs/log-batch", z.object({}).passthrough(), { ...batch });
      }

      // Close the run when the job ended, unless it is already closed by someone else (the training
      // code itself). A run this logger closed as abandoned is reopened to its real end if the job
      // turns up again.
      let status: JobCostLogResult["status"] = null;
      if (summary.outcome !== "running") {
        const closedAsAbandoned =
          target.data.tags.find((t) => t.key === JOB_TAGS.outcome)?.value === "abandoned";
        if (OPEN_STATUSES.has(target.info.status) || closedAsAbandoned) {
          status = summary.outcome === "finished" ? "FINISHED" : "FAILED";
          await call("POST", "runs/update", z.object({}).passthrough(), {
            run_id: runId,
            status,
            end_time: timestamp,
          });
        }
      }
      return { experimentId: experiment, runId, createdRun: existing === null, conflictingParams, status };
    },
  };
}
