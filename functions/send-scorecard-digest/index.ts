import { http } from "@google-cloud/functions-framework";
import { scorecardDigestResultToJson } from "#app/scorecard-digest.ts";
import { getRuntime } from "#runtime/runtime.ts";

/**
 * Scheduled (Cloud Scheduler, Mondays 09:30 UTC, after the budget digest): one `scorecard.digest`
 * alert per team that could save something, naming its biggest savings, at most once per team per
 * ISO week. Throws (500, the scheduler retries) when the warehouse, claims or bus fail.
 */
http("sendScorecardDigest", async (_req, res) => {
  const { scorecardDigest } = await getRuntime();
  res.status(200).json(scorecardDigestResultToJson(await scorecardDigest()));
});
