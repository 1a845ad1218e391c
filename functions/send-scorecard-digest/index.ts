import { scorecardDigestResultToJson } from "#app/scorecard-digest.ts";
import { httpFunction } from "#runtime/http-errors.ts";
import { getRuntime } from "#runtime/runtime.ts";

/**
 * Scheduled (Cloud Scheduler, Mondays 09:30 UTC, after the budget digest): one `scorecard.digest`
 * alert per team that could save something, naming its biggest savings, at most once per team per
 * ISO week. Throws (503 or 500, the scheduler retries) when the warehouse, claims or bus fail.
 */
httpFunction("sendScorecardDigest", { methods: ["POST"] }, async (_req, res) => {
  const { scorecardDigest } = await getRuntime();
  res.status(200).json(scorecardDigestResultToJson(await scorecardDigest()));
});
