import { evaluateBudgetsResultToJson } from "#app/evaluate-budgets.ts";
import { httpFunction } from "#runtime/http-errors.ts";
import { getRuntime } from "#runtime/runtime.ts";

/**
 * Scheduled (Cloud Scheduler, hourly, after the rollup refresh): evaluates every configured budget
 * and publishes the alerts and enforcement events whose keys no earlier run claimed. Throws (503 or 500,
 * the scheduler retries) when the warehouse, claims or bus fail.
 */
httpFunction("evaluateBudgets", { methods: ["POST"] }, async (_req, res) => {
  const { evaluateBudgets } = await getRuntime();
  res.status(200).json(evaluateBudgetsResultToJson(await evaluateBudgets.evaluate()));
});
