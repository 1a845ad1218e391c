import { httpFunction } from "#runtime/http-errors.ts";
import { getRuntime } from "#runtime/runtime.ts";

/** How far back jobs are synced: a job that ended in the last two days gets (or keeps) its MLflow costs. */
const LOOKBACK_MS = 48 * 3_600_000;

/** Scheduled (hourly): log the cost of every training job that ended to its MLflow run. */
httpFunction("syncTrainingCosts", { methods: ["POST"] }, async (_req, res) => {
  const { trainingCosts, clock, config } = await getRuntime();
  if (!config.training.mlflow) {
    res.status(200).json({ skipped: "no MLflow tracking server configured (training.mlflow)" });
    return;
  }
  const to = new Date(Math.ceil(clock.now().getTime() / 3_600_000) * 3_600_000);
  const result = await trainingCosts.syncToMlflow({ from: new Date(to.getTime() - LOOKBACK_MS), to });
  res
    .status(200)
    .json({ logged: result.logged.length, running: result.running, refused: result.refused.length });
});
