import { describe, expect, it } from "vitest";
import { createTrainingCosts, type JobRow, TrainingCostsError } from "#app/training-costs.ts";
import type { CostRow } from "#domain/cost-row.ts";
import type { JobCostLogger, JobCostLogResult, JobCostRun } from "#domain/training/job-cost-logger.ts";
import { trainingJobRows } from "#domain/training/job-summary.ts";
import { fixedClock } from "#ports/clock.ts";
import type { TrainingJobsQuery } from "#ports/warehouse.ts";
import { BASE_HOUR, trainingRow } from "../support/cost-row-builder.ts";

const USD = 1_000_000_000n;
const MIN = 60_000;
const at = (minutes: number) => new Date(BASE_HOUR.getTime() + minutes * MIN);
const RANGE = { from: at(-60), to: at(600) };

function point(jobId: string, minute: number, usd: bigint, phase = "progress", epoch: number | null = null) {
  return trainingRow(jobId, minute * 60, usd * USD, { job_phase: phase, epoch });
}

const EVENTS: CostRow[] = [
  point("done", 0, 0n, "started"),
  point("done", 60, 30n, "finished", 3),
  point("broke", 0, 0n, "started"),
  point("broke", 20, 10n, "failed"),
  point("lost", 0, 0n, "started"),
  point("lost", 100, 60n),
  point("busy", 280, 0n, "started"),
  point("busy", 290, 5n),
];

/** readJobs answered by the pure twin of training_jobs.sql over EVENTS, recording each query. */
function fakeWarehouse() {
  const queries: TrainingJobsQuery[] = [];
  const readJobs = async (query: TrainingJobsQuery): Promise<JobRow[]> => {
    queries.push(query);
    return trainingJobRows(
      EVENTS.filter((e) => e.event_time >= query.from && e.event_time < query.to),
      { now: query.now, silenceSeconds: query.silenceSeconds },
    );
  };
  return { queries, readJobs };
}

function fakeMlflow(fail: (run: JobCostRun) => Error | undefined = () => undefined) {
  const runs: JobCostRun[] = [];
  const mlflow: JobCostLogger = {
    async logJobCost(run): Promise<JobCostLogResult> {
      runs.push(run);
      const error = fail(run);
      if (error) throw error;
      return {
        experimentId: "1",
        runId: `run-${run.summary.job_id}`,
        createdRun: true,
        conflictingParams: [],
        status: null,
      };
    },
  };
  return { runs, mlflow };
}

describe("createTrainingCosts", () => {
  it("reports job summaries and the real abandoned share, judged at now with the silence", async () => {
    const warehouse = fakeWarehouse();
    const costs = createTrainingCosts({
      readJobs: warehouse.readJobs,
      clock: fixedClock(at(300)),
      silenceSeconds: 1800,
    });

    const report = await costs.report(RANGE);

    expect(warehouse.queries).toEqual([{ ...RANGE, now: at(300), silenceSeconds: 1800 }]);
    expect(report.asOf).toEqual(at(300));
    expect(report.jobs.map((j) => [j.job_id, j.outcome, j.cost_nanos])).toEqual([
      ["broke", "failed", 10n * USD],
      ["done", "finished", 30n * USD],
      ["lost", "abandoned", 60n * USD],
      ["busy", "running", 5n * USD],
    ]);
    expect(report.jobs.find((j) => j.job_id === "done")?.cost_per_epoch_nanos).toBe(10n * USD);
    expect(report.byOutcome).toHaveLength(1);
    expect(report.byOutcome[0]).toMatchObject({
      currency: "USD",
      cost_nanos: 105n * USD,
      abandoned_share: 0.571429,
    });
  });

  it("judges a past range at its end, not now", async () => {
    const warehouse = fakeWarehouse();
    const costs = createTrainingCosts({ readJobs: warehouse.readJobs, clock: fixedClock(at(10_000)) });
    const report = await costs.report({ from: RANGE.from, to: at(110) });
    expect(warehouse.queries[0]?.now).toEqual(at(110));
    expect(report.jobs.find((j) => j.job_id === "lost")?.outcome).toBe("running");
  });

  it("rejects a bad range or silence", async () => {
    const { readJobs } = fakeWarehouse();
    expect(() => createTrainingCosts({ readJobs, clock: fixedClock(at(0)), silenceSeconds: -5 })).toThrow(
      TrainingCostsError,
    );
    const costs = createTrainingCosts({ readJobs, clock: fixedClock(at(0)) });
    await expect(costs.report({ from: RANGE.to, to: RANGE.from })).rejects.toMatchObject({ code: "invalid" });
    await expect(costs.syncToMlflow(RANGE)).rejects.toMatchObject({ code: "not_configured" });
  });

  it("logs ended jobs (finished, failed, abandoned) to MLflow and leaves running ones", async () => {
    const { mlflow, runs } = fakeMlflow();
    const costs = createTrainingCosts({
      readJobs: fakeWarehouse().readJobs,
      clock: fixedClock(at(300)),
      mlflow,
      experimentName: "training-costs",
    });

    const sync = await costs.syncToMlflow(RANGE);

    expect(runs.map((r) => [r.summary.job_id, r.summary.outcome])).toEqual([
      ["broke", "failed"],
      ["done", "finished"],
      ["lost", "abandoned"],
    ]);
    expect(runs[1]).toMatchObject({
      experimentName: "training-costs",
      instance_type: "g2-standard-8",
      num_gpus: 8,
      team: "research",
      model: "ranker",
    });
    expect(sync.running).toBe(1);
    expect(sync.logged.map((l) => l.result.runId)).toEqual(["run-broke", "run-done", "run-lost"]);
    expect(sync.refused).toEqual([]);
  });

  it("records a refused job and goes on; stops on a transient fault", async () => {
    const refusal = Object.assign(new Error("INVALID_PARAMETER_VALUE"), { retryable: false });
    const refusing = fakeMlflow((run) => (run.summary.job_id === "broke" ? refusal : undefined));
    const costs = createTrainingCosts({
      readJobs: fakeWarehouse().readJobs,
      clock: fixedClock(at(300)),
      mlflow: refusing.mlflow,
    });
    const sync = await costs.syncToMlflow(RANGE);
    expect(sync.refused).toEqual([{ event_source: "//training/launcher", job_id: "broke", error: refusal }]);
    expect(sync.logged).toHaveLength(2);

    const outage = Object.assign(new Error("TIMEOUT"), { retryable: true });
    const down = fakeMlflow(() => outage);
    const failing = createTrainingCosts({
      readJobs: fakeWarehouse().readJobs,
      clock: fixedClock(at(300)),
      mlflow: down.mlflow,
    });
    await expect(failing.syncToMlflow(RANGE)).rejects.toBe(outage);
    expect(down.runs).toHaveLength(1);
  });

  it("logs an imported job to its own MLflow run, and leaves one that only looks abandoned running", async () => {
    const { mlflow, runs } = fakeMlflow();
    const costs = createTrainingCosts({
      readJobs: fakeWarehouse().readJobs,
      clock: fixedClock(at(300)),
      mlflow,
      // As if "done" and "lost" came from the MLflow import: their job ids are run ids.
      mlflowRunOf: (job) =>
        job.job_id === "done" || job.job_id === "lost" ? `mlflow-${job.job_id}` : undefined,
    });

    const sync = await costs.syncToMlflow(RANGE);

    expect(runs.map((r) => [r.summary.job_id, r.runId])).toEqual([
      ["broke", undefined],
      ["done", "mlflow-done"],
    ]);
    // "lost" is silent between two imports: MLflow, not the silence, says when it ends.
    expect(sync.running).toBe(2);
  });
});
