import { budgetDigestResultToJson } from "#app/budget-digest.ts";
import { httpFunction } from "#runtime/http-errors.ts";
import { getRuntime } from "#runtime/runtime.ts";

/**
 * Scheduled (Cloud Scheduler, Mondays 09:00 UTC): one `budget.digest` alert per owner team with
 * budgets approaching their limit or that overran last period, at most once per team per ISO week.
 * Throws (503 or 500, the scheduler retries) when the warehouse, claims or bus fail.
 */
httpFunction("sendBudgetDigest", { methods: ["POST"] }, async (_req, res) => {
  const { budgetDigest } = await getRuntime();
  res.status(200).json(budgetDigestResultToJson(await budgetDigest.send()));
});
