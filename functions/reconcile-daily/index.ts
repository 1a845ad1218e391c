import { reconcileDailyResultToJson } from "#app/reconcile-daily.ts";
import { httpFunction } from "#runtime/http-errors.ts";
import { getRuntime } from "#runtime/runtime.ts";

/**
 * Scheduled (Cloud Scheduler, daily): pulls the bill of the trailing window's settled days from the
 * configured sources, reconciles each day against the estimates (drift, calibrated estimate),
 * replaces the stored days and alerts once per day and scope past the threshold. Throws (503 or 500, the
 * scheduler retries) when a source, the warehouse, the claims or the bus fail; a re-run is idempotent.
 */
httpFunction("reconcileDaily", { methods: ["POST"] }, async (_req, res) => {
  const { reconcileDaily } = await getRuntime();
  res.status(200).json(reconcileDailyResultToJson(await reconcileDaily.reconcile()));
});
