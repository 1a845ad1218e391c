import { importSummaryToJson } from "#app/import-mlflow-runs.ts";
import { httpFunction } from "#runtime/http-errors.ts";
import { getRuntime } from "#runtime/runtime.ts";

/** Scheduled (hourly): the configured MLflow experiments' running and recently ended runs become training job events. */
httpFunction("importMlflowRuns", { methods: ["POST"] }, async (_req, res) => {
  const { importMlflowRuns } = await getRuntime();
  if (!importMlflowRuns) {
    res.status(200).json({ skipped: "no MLflow import configured (training.mlflowImport)" });
    return;
  }
  res.status(200).json(importSummaryToJson(await importMlflowRuns.import()));
});
