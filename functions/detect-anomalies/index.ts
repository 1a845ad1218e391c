import { detectAnomaliesResultToJson } from "#app/detect-anomalies.ts";
import { httpFunction } from "#runtime/http-errors.ts";
import { getRuntime } from "#runtime/runtime.ts";

/**
 * Scheduled (Cloud Scheduler, hourly, after the rollup refresh): judges the last whole hour's spend
 * per team, model and business unit against its hour-of-week baseline and running training jobs
 * against their peers; publishes one alert per incident / runaway job. Throws (503 or 500, the scheduler
 * retries) when the warehouse, claims or bus fail.
 */
httpFunction("detectAnomalies", { methods: ["POST"] }, async (_req, res) => {
  const { detectAnomalies } = await getRuntime();
  res.status(200).json(detectAnomaliesResultToJson(await detectAnomalies.detect()));
});
