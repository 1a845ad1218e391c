import { http } from "@google-cloud/functions-framework";
import { detectAnomaliesResultToJson } from "#app/detect-anomalies.ts";
import { getRuntime } from "#runtime/runtime.ts";

/**
 * Scheduled (Cloud Scheduler, hourly, after the rollup refresh): judges the last whole hour's spend
 * per team, model and business unit against its hour-of-week baseline and running training jobs
 * against their peers; publishes one alert per incident / runaway job. Throws (500, the scheduler
 * retries) when the warehouse, claims or bus fail.
 */
http("detectAnomalies", async (_req, res) => {
  const { detectAnomalies } = await getRuntime();
  res.status(200).json(detectAnomaliesResultToJson(await detectAnomalies.detect()));
});
